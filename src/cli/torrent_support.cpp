#include "torrent_support.hpp"

#include "progress_line.hpp"

#include <spate/peer/dial.hpp>
#include <spate/storage/check_pieces.hpp>
#include <spate/storage/resume_store.hpp>

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

namespace spate::cli {

void fill_random(std::span<std::byte> bytes) {
    if (::getrandom(bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size())) {
        return;
    }
    // Without entropy, a weaker but still distinct value.
    auto seed = static_cast<std::uint64_t>(
                    std::chrono::steady_clock::now().time_since_epoch().count()) ^
                static_cast<std::uint64_t>(::getpid());
    for (std::byte& b : bytes) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        b = static_cast<std::byte>(seed >> 56);
    }
}

std::uint64_t random_u64() {
    std::uint64_t value = 0;
    fill_random(std::as_writable_bytes(std::span(&value, 1)));
    return value;
}

peer::peer_id make_peer_id() {
    std::array<std::byte, 12> random{};
    fill_random(random);
    return peer::make_peer_id(random);
}

io::task<void> watch_signals(io::ring& ring, io::signal_set& signals, std::stop_source interrupt,
                             std::stop_token stop, int* which) {
    result<int> signal = co_await signals.wait(ring, stop);
    if (signal) {
        *which = *signal;
        interrupt.request_stop();
    }
}

io::task<void> greet(io::ring& ring, io::unique_fd socket, endpoint remote, torrent_lookup lookup,
                     peer::peer_id self, session::handshake_gate::ticket admitted,
                     std::stop_token stop) {
    peer::handshake ours;
    ours.id = self;
    peer::advertise_extensions(ours);
    std::function<bool(const sha1_digest&)> serves = [&lookup](const sha1_digest& asked) {
        return lookup(asked) != nullptr;
    };
    result<peer::handshake> theirs = co_await peer::answer_handshake(
        ring, socket.get(), std::move(serves), ours, std::chrono::seconds(10), stop);
    admitted.release();
    if (!theirs) {
        co_return;
    }
    // Looked up again: the torrent may have gone while the handshake was answered.
    if (session::torrent_download* torrent = lookup(theirs->info_hash)) {
        torrent->add_incoming(std::move(socket), remote, *theirs);
    }
}

session::listener::accept_function greet_accepted(io::ring& ring, io::scope& incoming,
                                                  session::handshake_gate& gate,
                                                  torrent_lookup lookup, peer::peer_id self) {
    return [&ring, &incoming, &gate, lookup, self](io::unique_fd socket, endpoint remote) {
        // Admitted before the socket moves into the task (argument order is unspecified).
        session::handshake_gate::ticket admitted = gate.admit(socket.get());
        incoming.spawn(greet(ring, std::move(socket), remote, lookup, self, std::move(admitted),
                             incoming.token()));
    };
}

bool any_payload_exists(const std::string& root, const metainfo::torrent_info& torrent) {
    for (const metainfo::torrent_file& file : torrent.files()) {
        if (file.pad) {
            continue;
        }
        struct stat st {};
        const std::string path = root + "/" + file.relative_path().string();
        if (::lstat(path.c_str(), &st) == 0) {
            return true;
        }
    }
    return false;
}

io::task<result<existing_data>> find_existing(io::ring& ring, storage::file_storage& storage,
                                              const metainfo::torrent_info& torrent,
                                              std::string root, io::buffer_pool& pool,
                                              std::stop_token stop) {
    result<std::optional<storage::resume_data>> resume = co_await storage::load_resume(
        ring, root, torrent.info_hash(), torrent.piece_count(), torrent.files().size());
    if (resume && *resume) {
        result<std::vector<storage::file_stat>> now = storage.stat_files();
        if (now) {
            if (std::optional<bitfield> have = storage::fast_resume_have(**resume, *now)) {
                co_return existing_data{std::move(*have), true};
            }
        }
    }
    progress_line line("checking", torrent.total_size());
    auto progress = [&line, &torrent](std::uint32_t done, std::uint32_t total) {
        line.update(total == 0 ? 0 : torrent.total_size() * done / total);
    };
    result<storage::check_result> checked =
        co_await storage::check_pieces(ring, storage, torrent, pool, progress, stop);
    line.finish();
    if (!checked) {
        co_return fail(checked.error());
    }
    co_return existing_data{std::move(checked->good), false};
}

io::task<result<saved_progress>> save_progress(io::ring& ring, storage::file_storage& storage,
                                               const metainfo::torrent_info& torrent,
                                               const picker::piece_picker& picker,
                                               std::string root) {
    storage::resume_data data;
    data.info_hash = torrent.info_hash();
    data.have = picker.have_bits();
    result<void> synced = co_await storage.sync();
    if (!synced) {
        co_return fail(synced.error());
    }
    result<std::vector<storage::file_stat>> stats = storage.stat_files();
    if (!stats) {
        co_return fail(stats.error());
    }
    data.files = std::move(*stats);
    result<void> written = co_await storage::save_resume(ring, std::move(root), data);
    saved_progress out;
    if (!written) {
        out.resume_error = written.error();
    }
    co_return out;
}

} // namespace spate::cli
