#include <spate/picker/piece_picker.hpp>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>

namespace spate::picker {

namespace {

[[noreturn]] void invariant_failed(const char* what, std::uint32_t piece) {
    std::fprintf(stderr, "spate::picker::piece_picker invariant broken: %s (piece %u)\n", what,
                 piece);
    std::abort();
}

piece_geometry checked_geometry(std::uint32_t piece_count, std::uint64_t piece_length,
                                std::uint64_t total_size) {
    auto g = piece_geometry::create(piece_count, piece_length, total_size);
    if (!g) {
        std::fprintf(stderr, "spate::picker::piece_picker: %s\n", g.error().message().c_str());
        std::abort();
    }
    return *g;
}

// Calls f(piece_index) for every set bit, skipping zero bytes whole.
template <typename F> void for_each_set(const bitfield& bits, F&& f) {
    auto bytes = bits.bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto v = static_cast<unsigned>(bytes[i]);
        while (v != 0) {
            // The high bit is the lowest piece index (peer-wire order).
            auto bit = static_cast<unsigned>(std::countl_zero(static_cast<std::uint8_t>(v)));
            v &= ~(0x80U >> bit);
            f(piece_index(static_cast<std::uint32_t>(i * 8 + bit)));
        }
    }
}

} // namespace

/// The arguments of one pick() call, threaded through its passes.
struct piece_picker::pick_context {
    const bitfield& has;
    peer_key who;
    std::size_t remaining;
    std::vector<block_request>& out;
    std::size_t new_pieces; // pieces pick_new may still start
};

result<piece_picker> piece_picker::create(std::uint32_t piece_count, std::uint64_t piece_length,
                                          std::uint64_t total_size, picker_options options) {
    auto g = piece_geometry::create(piece_count, piece_length, total_size);
    if (!g) {
        return fail(g.error());
    }
    return piece_picker(*g, options);
}

piece_picker::piece_picker(std::uint32_t piece_count, std::uint64_t piece_length,
                           std::uint64_t total_size, picker_options options)
    : piece_picker(checked_geometry(piece_count, piece_length, total_size), options) {}

piece_picker::piece_picker(const piece_geometry& geometry, picker_options options)
    : m_geo(geometry), m_options(options), m_have(geometry.piece_count()),
      m_wanted(geometry.piece_count(), true), m_priority(geometry.piece_count(), priority::normal),
      m_avail(geometry.piece_count()), m_wanted_remaining(geometry.piece_count()),
      m_random_state(options.seed) {
    for (piece_index p{0}; p.value() < piece_count(); ++p) {
        m_avail.insert(p, free_level(p));
    }
    // Two clients (or two runs) with different seeds start rarest-first on different pieces
    // among the equally rare.
    m_avail.shuffle_ties([this] { return next_random(); });
}

std::uint64_t piece_picker::next_random() noexcept {
    // splitmix64: small, fast, and the same sequence for the same seed everywhere.
    std::uint64_t z = (m_random_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint8_t piece_picker::free_level(piece_index p) const {
    auto v = static_cast<std::uint8_t>(m_priority[p]);
    return std::min(v, availability::level_count);
}

bool piece_picker::have(piece_index p) const {
    return valid(p) && m_have[p];
}

priority piece_picker::piece_priority(piece_index p) const {
    return valid(p) ? m_priority[p] : priority::skip;
}

bool piece_picker::is_wanted(piece_index p) const {
    return valid(p) && !m_have[p] && m_priority[p] != priority::skip;
}

std::uint32_t piece_picker::piece_availability(piece_index p) const {
    return valid(p) ? m_avail.count(p) : 0;
}

const block_state* piece_picker::progress(piece_index p) const {
    auto it = m_downloading.find(p);
    return it == m_downloading.end() ? nullptr : &it->second;
}

void piece_picker::make_free_if_wanted(piece_index p) {
    if (is_wanted(p) && !m_avail.is_free(p) && !m_downloading.contains(p)) {
        m_avail.insert(p, free_level(p));
    }
}

void piece_picker::forget_progress(piece_index p) {
    m_downloading.erase(p);
    m_open_pieces.erase(p);
    make_free_if_wanted(p);
}

void piece_picker::note_open(piece_index p, const block_state& st) {
    if (st.open_count() != 0) {
        m_open_pieces.insert(p);
    } else {
        m_open_pieces.erase(p);
    }
}

void piece_picker::mark_have(piece_index p) {
    if (!valid(p) || m_have[p]) {
        return;
    }
    if (m_priority[p] != priority::skip) {
        --m_wanted_remaining;
        m_wanted.clear(p);
    }
    m_have.set(p);
    m_avail.erase(p);
    m_downloading.erase(p);
    m_open_pieces.erase(p);
    while (m_first_missing < piece_count() && m_have.test(m_first_missing)) {
        ++m_first_missing;
    }
}

void piece_picker::set_priority(piece_index p, priority prio) {
    if (!valid(p) || m_priority[p] == prio) {
        return;
    }
    bool was_wanted = m_priority[p] != priority::skip;
    bool now_wanted = prio != priority::skip;
    m_priority[p] = prio;
    if (m_have[p]) {
        return;
    }
    if (was_wanted && !now_wanted) {
        --m_wanted_remaining;
        m_wanted.clear(p);
    } else if (!was_wanted && now_wanted) {
        ++m_wanted_remaining;
        m_wanted.set(p);
    }
    // A free piece moves to its new level (or out); one in progress keeps its state.
    m_avail.erase(p);
    make_free_if_wanted(p);
}

void piece_picker::add_peer(const bitfield& peer_has) {
    if (peer_has.size() != piece_count()) {
        return;
    }
    for_each_set(peer_has, [this](piece_index p) { m_avail.increment(p); });
}

void piece_picker::remove_peer(const bitfield& peer_has) {
    if (peer_has.size() != piece_count()) {
        return;
    }
    for_each_set(peer_has, [this](piece_index p) { m_avail.decrement(p); });
}

void piece_picker::add_have(piece_index p) {
    if (valid(p)) {
        m_avail.increment(p);
    }
}

bool piece_picker::is_interesting(const bitfield& peer_has) const {
    if (peer_has.size() != piece_count() || m_wanted_remaining == 0) {
        return false;
    }
    auto theirs = peer_has.bytes();
    auto wanted = m_wanted.bytes();
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if ((theirs[i] & wanted[i]) != std::byte{0}) {
            return true;
        }
    }
    return false;
}

void piece_picker::take_open_blocks(piece_index p, block_state& st, pick_context& ctx) {
    for (std::uint32_t b = 0; b < st.block_count() && ctx.remaining > 0; ++b) {
        if (st.block(b).is_open() && st.request(b, ctx.who)) {
            ctx.out.push_back(m_geo.block(p, b));
            --ctx.remaining;
        }
    }
    note_open(p, st);
}

void piece_picker::pick_partial(pick_context& ctx, bool own_pieces) {
    // take_open_blocks may erase the current piece from m_open_pieces: step past it first.
    for (auto it = m_open_pieces.begin(); it != m_open_pieces.end() && ctx.remaining > 0;) {
        piece_index p = *it;
        ++it;
        if (!is_wanted(p) || !ctx.has[p]) {
            continue;
        }
        block_state& st = m_downloading.find(p)->second;
        if (st.has_peer(ctx.who) != own_pieces) {
            continue;
        }
        take_open_blocks(p, st, ctx);
    }
}

void piece_picker::collect_rarest(pick_context& ctx, std::vector<piece_index>& chosen) {
    std::size_t blocks = 0;
    for (auto level = availability::level_count; level >= 1; --level) {
        for (piece_index p : m_avail.order(level)) {
            if (!ctx.has[p]) {
                continue;
            }
            chosen.push_back(p);
            blocks += m_geo.block_count(p);
            if (blocks >= ctx.remaining) {
                return;
            }
        }
    }
}

void piece_picker::collect_random(pick_context& ctx, std::vector<piece_index>& chosen) {
    std::size_t blocks = 0;
    for (auto level = availability::level_count; level >= 1; --level) {
        auto order = m_avail.order(level);
        // Each piece from a fresh random place, so the choice does not follow the rarity
        // order; a level that has nothing more for this peer gives way to the next.
        bool found = true;
        while (found && !order.empty()) {
            found = false;
            std::size_t start = next_random() % order.size();
            for (std::size_t i = 0; i < order.size(); ++i) {
                piece_index p = order[(start + i) % order.size()];
                if (ctx.has[p] && std::find(chosen.begin(), chosen.end(), p) == chosen.end()) {
                    chosen.push_back(p);
                    found = true;
                    break;
                }
            }
            if (found) {
                blocks += m_geo.block_count(chosen.back());
                if (blocks >= ctx.remaining) {
                    return;
                }
            }
        }
    }
}

void piece_picker::collect_sequential(pick_context& ctx, std::vector<piece_index>& chosen) {
    std::size_t blocks = 0;
    for (auto level = availability::level_count; level >= 1; --level) {
        if (m_avail.order(level).empty()) {
            continue;
        }
        for (std::uint32_t i = m_first_missing; i < piece_count(); ++i) {
            piece_index p(i);
            if (m_avail.level(p) != level || !ctx.has[p]) {
                continue;
            }
            chosen.push_back(p);
            blocks += m_geo.block_count(p);
            if (blocks >= ctx.remaining) {
                return;
            }
        }
    }
}

void piece_picker::pick_new(pick_context& ctx) {
    if (m_avail.free_count() == 0 || ctx.new_pieces == 0) {
        return;
    }
    std::vector<piece_index> chosen;
    if (m_options.sequential) {
        collect_sequential(ctx, chosen);
    } else if (m_have.count() < m_options.random_first_pieces) {
        collect_random(ctx, chosen);
    } else {
        collect_rarest(ctx, chosen);
    }
    if (chosen.size() > ctx.new_pieces) {
        chosen.resize(ctx.new_pieces);
    }
    ctx.new_pieces -= chosen.size();
    // Chosen first, then changed: the scans above read the orders that erase() reshuffles.
    for (piece_index p : chosen) {
        m_avail.erase(p);
        auto [it, inserted] = m_downloading.try_emplace(p, m_geo.block_count(p));
        take_open_blocks(p, it->second, ctx);
    }
}

bool piece_picker::no_open_wanted_blocks() const {
    return std::none_of(m_open_pieces.begin(), m_open_pieces.end(),
                        [this](piece_index p) { return is_wanted(p); });
}

bool piece_picker::in_endgame() const {
    return m_wanted_remaining > 0 && m_avail.free_count() == 0 && no_open_wanted_blocks();
}

void piece_picker::pick_endgame(pick_context& ctx) {
    if (!in_endgame()) {
        return;
    }
    for (auto& [p, st] : m_downloading) {
        if (!is_wanted(p) || !ctx.has[p] || st.requested_count() == 0) {
            continue;
        }
        for (std::uint32_t b = 0; b < st.block_count() && ctx.remaining > 0; ++b) {
            const block_slot& s = st.block(b);
            // Only blocks someone else is already fetching: open ones were handed out above.
            if (s.requester_count == 0 || s.received) {
                continue;
            }
            if (st.request(b, ctx.who)) {
                ctx.out.push_back(m_geo.block(p, b));
                --ctx.remaining;
            }
        }
        if (ctx.remaining == 0) {
            return;
        }
    }
}

std::size_t piece_picker::pick(const bitfield& peer_has, peer_key who, std::size_t max_blocks,
                               std::vector<block_request>& out, std::size_t max_new_pieces,
                               std::size_t max_endgame_blocks) {
    if (max_blocks == 0 || m_wanted_remaining == 0 || peer_has.size() != piece_count()) {
        return 0;
    }
    std::size_t before = out.size();
    pick_context ctx{peer_has, who, max_blocks, out, max_new_pieces};
    pick_partial(ctx, true);
    pick_partial(ctx, false);
    if (ctx.remaining > 0) {
        pick_new(ctx);
    }
    if (ctx.remaining > 0 && max_endgame_blocks > 0) {
        const std::size_t others = ctx.remaining - std::min(ctx.remaining, max_endgame_blocks);
        ctx.remaining -= others;
        pick_endgame(ctx);
        ctx.remaining += others;
    }
    return out.size() - before;
}

piece_picker::received_result piece_picker::on_block_received(const block_request& b,
                                                              peer_key who) {
    received_result r;
    if (!m_geo.is_valid_block(b) || m_have[b.piece]) {
        return r;
    }
    auto it = m_downloading.find(b.piece);
    if (it == m_downloading.end()) {
        return r;
    }
    if (!it->second.receive(b.begin / block_size, who, r.cancel_from)) {
        return r;
    }
    r.expected = true;
    r.piece_complete = it->second.complete();
    return r;
}

void piece_picker::on_request_dropped(const block_request& b, peer_key who) {
    if (!m_geo.is_valid_block(b)) {
        return;
    }
    auto it = m_downloading.find(b.piece);
    if (it == m_downloading.end()) {
        return;
    }
    if (!it->second.drop(b.begin / block_size, who)) {
        return;
    }
    if (it->second.untouched()) {
        // Nothing of it is requested or received: back with the free pieces, so it is picked
        // by rarity again rather than as a partial piece.
        forget_progress(b.piece);
    } else {
        note_open(b.piece, it->second);
    }
}

std::size_t piece_picker::on_peer_gone(peer_key who) {
    std::size_t dropped = 0;
    std::vector<piece_index> untouched;
    for (auto& [p, st] : m_downloading) {
        std::uint32_t n = st.drop_peer(who);
        dropped += n;
        if (n != 0 && st.untouched()) {
            untouched.push_back(p);
        } else if (n != 0) {
            note_open(p, st);
        }
    }
    for (piece_index p : untouched) {
        forget_progress(p);
    }
    return dropped;
}

void piece_picker::on_piece_failed(piece_index p) {
    if (!valid(p) || m_have[p]) {
        return;
    }
    forget_progress(p);
}

bool piece_picker::is_requested_from(const block_request& b, peer_key who) const {
    if (!m_geo.is_valid_block(b)) {
        return false;
    }
    const block_state* st = progress(b.piece);
    return st != nullptr && st->block(b.begin / block_size).requested_from(who);
}

void piece_picker::check_invariants() const {
    m_avail.check_invariants();
    if (m_have.size() != piece_count() || m_wanted.size() != piece_count() ||
        m_priority.size() != piece_count() || m_avail.piece_count() != piece_count()) {
        invariant_failed("per-piece arrays differ in size", piece_count());
    }
    std::uint32_t wanted = 0;
    for (piece_index p{0}; p.value() < piece_count(); ++p) {
        bool w = is_wanted(p);
        wanted += w ? 1 : 0;
        if (m_wanted[p] != w) {
            invariant_failed("wanted bit disagrees with have and priority", p.value());
        }
        bool free = m_avail.is_free(p);
        bool downloading = m_downloading.contains(p);
        if (free && downloading) {
            invariant_failed("piece both free and in progress", p.value());
        }
        if (free && (!w || m_avail.level(p) != free_level(p))) {
            invariant_failed("free piece is not wanted or at the wrong level", p.value());
        }
        if (w && !free && !downloading) {
            invariant_failed("wanted piece neither free nor in progress", p.value());
        }
        if (m_have[p] && downloading) {
            invariant_failed("had piece still in progress", p.value());
        }
        if (p.value() < m_first_missing && !m_have[p]) {
            invariant_failed("sequential start is past a missing piece", p.value());
        }
    }
    if (wanted != m_wanted_remaining) {
        invariant_failed("wanted_remaining disagrees with the pieces", wanted);
    }
    for (const auto& [p, st] : m_downloading) {
        if (!valid(p) || st.block_count() != m_geo.block_count(p)) {
            invariant_failed("piece in progress has the wrong block count", p.value());
        }
        if (st.untouched()) {
            invariant_failed("piece in progress has nothing requested or received", p.value());
        }
        st.check_invariants(p.value());
        if (m_open_pieces.contains(p) != (st.open_count() != 0)) {
            invariant_failed("open-piece set disagrees with the block state", p.value());
        }
    }
    for (piece_index p : m_open_pieces) {
        if (!m_downloading.contains(p)) {
            invariant_failed("open-piece set holds a piece not in progress", p.value());
        }
    }
}

} // namespace spate::picker
