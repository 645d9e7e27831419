#include <spate/picker/availability.hpp>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace spate::picker {

namespace {
[[noreturn]] void invariant_failed(const char* what, std::uint32_t piece) {
    std::fprintf(stderr, "spate::picker::availability invariant broken: %s (piece %u)\n", what,
                 piece);
    std::abort();
}
} // namespace

availability::availability(std::uint32_t piece_count)
    : m_count(piece_count, 0), m_pos(piece_count, 0), m_level(piece_count, 0) {}

void availability::swap_positions(level_order& lv, std::uint32_t a, std::uint32_t b) noexcept {
    std::swap(lv.order[a], lv.order[b]);
    m_pos[lv.order[a]] = a;
    m_pos[lv.order[b]] = b;
}

void availability::grow_groups(level_order& lv, std::uint32_t avail) {
    // New groups above the highest are empty: they end where the array ends.
    while (lv.ends.size() <= avail) {
        lv.ends.push_back(static_cast<std::uint32_t>(lv.order.size()));
    }
}

void availability::increment(piece_index p) {
    std::uint32_t a = m_count[p]++;
    if (m_level[p] == 0) {
        return;
    }
    level_order& lv = m_levels[m_level[p] - 1];
    grow_groups(lv, a + 1);
    // Swap to the last place of group a, then move the boundary left: now first of a + 1.
    std::uint32_t last = lv.ends[a] - 1;
    swap_positions(lv, m_pos[p], last);
    --lv.ends[a];
}

void availability::decrement(piece_index p) {
    if (m_count[p] == 0) {
        return;
    }
    std::uint32_t a = m_count[p]--;
    if (m_level[p] == 0) {
        return;
    }
    level_order& lv = m_levels[m_level[p] - 1];
    // Swap to the first place of group a, then move the boundary right: now last of a - 1.
    std::uint32_t first = lv.ends[a - 1];
    swap_positions(lv, m_pos[p], first);
    ++lv.ends[a - 1];
}

void availability::insert(piece_index p, std::uint8_t level) {
    if (m_level[p] != 0 || level == 0 || level > level_count) {
        return;
    }
    level_order& lv = m_levels[level - 1];
    std::uint32_t a = m_count[p];
    grow_groups(lv, a);
    auto hole = static_cast<std::uint32_t>(lv.order.size());
    lv.order.push_back(p);
    m_pos[p] = hole;
    m_level[p] = level;
    ++m_free;
    // The new place at the very end belongs to the top group; walk the piece down: each
    // group above `a` gives its first place to the piece and takes the hole at its end.
    auto g = static_cast<std::uint32_t>(lv.ends.size() - 1);
    ++lv.ends[g];
    for (; g > a; --g) {
        std::uint32_t first = lv.ends[g - 1];
        swap_positions(lv, hole, first);
        hole = first;
        ++lv.ends[g - 1];
    }
}

void availability::erase(piece_index p) {
    if (m_level[p] == 0) {
        return;
    }
    level_order& lv = m_levels[m_level[p] - 1];
    std::uint32_t a = m_count[p];
    // Mirror of insert: the piece moves to the end of its group, then up through every
    // higher group's last place, each boundary moving left past it, until it is last.
    std::uint32_t hole = m_pos[p];
    for (auto g = a; g < lv.ends.size(); ++g) {
        std::uint32_t last = lv.ends[g] - 1;
        swap_positions(lv, hole, last);
        hole = last;
        --lv.ends[g];
    }
    lv.order.pop_back();
    m_level[p] = 0;
    m_pos[p] = 0;
    --m_free;
}

void availability::check_invariants() const {
    std::uint32_t free = 0;
    for (std::uint8_t l = 1; l <= level_count; ++l) {
        const level_order& lv = m_levels[l - 1];
        if (lv.order.empty() && lv.ends.empty()) {
            continue;
        }
        if (lv.ends.empty() || lv.ends.back() != lv.order.size()) {
            invariant_failed("last group does not end at the end of the order", l);
        }
        std::uint32_t begin = 0;
        for (std::uint32_t a = 0; a < lv.ends.size(); ++a) {
            if (lv.ends[a] < begin) {
                invariant_failed("group ends decrease", l);
            }
            for (std::uint32_t i = begin; i < lv.ends[a]; ++i) {
                piece_index p = lv.order[i];
                if (p.value() >= piece_count()) {
                    invariant_failed("piece out of range in order", p.value());
                }
                if (m_pos[p] != i) {
                    invariant_failed("position does not match order", p.value());
                }
                if (m_level[p] != l) {
                    invariant_failed("level does not match order", p.value());
                }
                if (m_count[p] != a) {
                    invariant_failed("piece sits in the wrong availability group", p.value());
                }
            }
            begin = lv.ends[a];
        }
        free += static_cast<std::uint32_t>(lv.order.size());
    }
    if (free != m_free) {
        invariant_failed("free count disagrees with the orders", free);
    }
    std::uint32_t levelled = 0;
    for (piece_index p{0}; p < m_level.end_index(); ++p) {
        levelled += m_level[p] != 0 ? 1 : 0;
    }
    if (levelled != m_free) {
        invariant_failed("pieces with a level disagree with the free count", levelled);
    }
}

} // namespace spate::picker
