#pragma once
/// Opening a peer connection: the TCP connect and the BEP 3 handshake, each bounded.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/peer/handshake.hpp>

#include <chrono>
#include <functional>
#include <stop_token>

namespace spate::peer {

/// A TCP connection to `remote` (ring connect with a deadline; TCP_NODELAY set).
[[nodiscard]] io::task<result<io::unique_fd>> dial(io::ring& ring, endpoint remote,
                                                   std::chrono::milliseconds timeout,
                                                   std::stop_token stop);

/// Sends `ours` on `fd` and reads the peer's handshake, all within `timeout`. Fails with
/// errc::wrong_info_hash when the peer names another torrent. `fd` is borrowed until the
/// task completes.
[[nodiscard]] io::task<result<handshake>> exchange_handshake(io::ring& ring, int fd,
                                                             handshake ours,
                                                             std::chrono::milliseconds timeout,
                                                             std::stop_token stop);

/// For an accepted connection: reads the peer's handshake, and answers with ours for the
/// torrent it names when `serves(info_hash)` says we have it (errc::unknown_info_hash
/// otherwise, and nothing is sent), all within `timeout`. `ours.info_hash` is filled in
/// from the peer's. `fd` is borrowed until the task completes; `serves` is called once,
/// when the peer's handshake has arrived.
[[nodiscard]] io::task<result<handshake>>
answer_handshake(io::ring& ring, int fd, std::function<bool(const sha1_digest&)> serves,
                 handshake ours, std::chrono::milliseconds timeout, std::stop_token stop);

} // namespace spate::peer
