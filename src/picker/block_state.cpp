#include <spate/picker/block_state.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace spate::picker {

namespace {
[[noreturn]] void invariant_failed(const char* what, std::uint32_t piece) {
    std::fprintf(stderr, "spate::picker::block_state invariant broken: %s (piece %u)\n", what,
                 piece);
    std::abort();
}
} // namespace

bool block_slot::requested_from(peer_key who) const noexcept {
    for (std::uint8_t i = 0; i < requester_count; ++i) {
        if (requesters[i] == who) {
            return true;
        }
    }
    return false;
}

block_state::block_state(std::uint32_t blocks) : m_blocks(blocks), m_open(blocks) {}

bool block_state::has_peer(peer_key who) const noexcept {
    return std::any_of(m_peers.begin(), m_peers.end(),
                       [who](const auto& e) { return e.first == who; });
}

void block_state::add_peer_count(peer_key who) {
    for (auto& e : m_peers) {
        if (e.first == who) {
            ++e.second;
            return;
        }
    }
    m_peers.emplace_back(who, 1);
}

void block_state::remove_peer_count(peer_key who) {
    for (auto it = m_peers.begin(); it != m_peers.end(); ++it) {
        if (it->first == who) {
            if (--it->second == 0) {
                m_peers.erase(it);
            }
            return;
        }
    }
}

bool block_state::request(std::uint32_t b, peer_key who) {
    block_slot& s = m_blocks[b];
    if (s.received || s.requester_count >= max_requesters || s.requested_from(who)) {
        return false;
    }
    if (s.requester_count == 0) {
        --m_open;
    }
    s.requesters[s.requester_count++] = who;
    add_peer_count(who);
    return true;
}

bool block_state::receive(std::uint32_t b, peer_key who, std::vector<peer_key>& others) {
    block_slot& s = m_blocks[b];
    if (s.received || !s.requested_from(who)) {
        return false;
    }
    for (std::uint8_t i = 0; i < s.requester_count; ++i) {
        remove_peer_count(s.requesters[i]);
        if (s.requesters[i] != who) {
            others.push_back(s.requesters[i]);
        }
    }
    s.requester_count = 0;
    s.requesters = {};
    s.received = true;
    ++m_received;
    return true;
}

bool block_state::drop(std::uint32_t b, peer_key who) {
    block_slot& s = m_blocks[b];
    if (s.received) {
        return false;
    }
    for (std::uint8_t i = 0; i < s.requester_count; ++i) {
        if (s.requesters[i] == who) {
            // Keep the remaining requesters packed at the front.
            s.requesters[i] = s.requesters[s.requester_count - 1];
            s.requesters[s.requester_count - 1] = 0;
            --s.requester_count;
            if (s.requester_count == 0) {
                ++m_open;
            }
            remove_peer_count(who);
            return true;
        }
    }
    return false;
}

std::uint32_t block_state::drop_peer(peer_key who) {
    if (!has_peer(who)) {
        return 0;
    }
    std::uint32_t n = 0;
    for (std::uint32_t b = 0; b < block_count(); ++b) {
        n += drop(b, who) ? 1 : 0;
    }
    return n;
}

void block_state::check_invariants(std::uint32_t piece) const {
    std::uint32_t open = 0;
    std::uint32_t received = 0;
    std::vector<std::pair<peer_key, std::uint32_t>> counted;
    for (const block_slot& s : m_blocks) {
        if (s.received && s.requester_count != 0) {
            invariant_failed("received block still has requesters", piece);
        }
        if (s.requester_count > max_requesters) {
            invariant_failed("block has too many requesters", piece);
        }
        open += s.is_open() ? 1 : 0;
        received += s.received ? 1 : 0;
        for (std::uint8_t i = 0; i < s.requester_count; ++i) {
            for (std::uint8_t j = 0; j < i; ++j) {
                if (s.requesters[i] == s.requesters[j]) {
                    invariant_failed("block requested twice from one peer", piece);
                }
            }
            auto it = std::find_if(counted.begin(), counted.end(),
                                   [&](const auto& e) { return e.first == s.requesters[i]; });
            if (it == counted.end()) {
                counted.emplace_back(s.requesters[i], 1);
            } else {
                ++it->second;
            }
        }
    }
    if (open != m_open) {
        invariant_failed("open count disagrees with the blocks", piece);
    }
    if (received != m_received) {
        invariant_failed("received count disagrees with the blocks", piece);
    }
    auto sorted_peers = m_peers;
    std::sort(sorted_peers.begin(), sorted_peers.end());
    std::sort(counted.begin(), counted.end());
    if (sorted_peers != counted) {
        invariant_failed("per-peer request counts disagree with the blocks", piece);
    }
}

} // namespace spate::picker
