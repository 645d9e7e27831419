#include <spate/session/piece_writer.hpp>

#include <vector>

namespace spate::session {

io::task<result<void>> piece_writer::write(piece_index p, const io::buffer_slot& slot) {
    result<void> outcome;
    bool finished = false;
    io::event done(m_ring);
    m_queue.emplace(p.value(), waiting{&slot, &outcome, &finished, &done});
    if (m_writers < m_max_writers) {
        // This caller writes until the queue is empty; its own piece is among what it
        // writes, or was taken by a writer already out.
        ++m_writers;
        co_await drain();
        --m_writers;
    }
    while (!finished) {
        co_await done.wait(std::stop_token{});
    }
    co_return outcome;
}

io::task<void> piece_writer::drain() {
    std::vector<const io::buffer_slot*> slots;
    std::vector<waiting> taken;
    while (!m_queue.empty()) {
        slots.clear();
        taken.clear();
        const std::uint32_t first = m_queue.begin()->first;
        std::uint64_t bytes = 0;
        for (auto it = m_queue.begin(); it != m_queue.end();) {
            const std::uint64_t size = m_storage.torrent().layout().piece_size(piece_index(it->first));
            if (it->first != first + slots.size() || (!slots.empty() && bytes + size > m_max_bytes)) {
                break;
            }
            bytes += size;
            slots.push_back(it->second.slot);
            taken.push_back(it->second);
            it = m_queue.erase(it);
        }
        ++m_writes;
        const result<void> written = co_await m_storage.write_pieces(piece_index(first), slots);
        for (const waiting& w : taken) {
            *w.outcome = written;
            *w.finished = true;
            w.done->notify();
        }
    }
}

} // namespace spate::session
