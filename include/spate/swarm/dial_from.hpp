#pragma once
/// dial_from: a TCP connection from a chosen local address (any port) to `target`, so each
/// synthetic peer shows its own loopback address to whoever it dials.

#include <spate/core/endpoint.hpp>
#include <spate/core/result.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>

#include <chrono>
#include <stop_token>

namespace spate::swarm {

/// Binds a socket to `source`'s address (its port is ignored), connects it to `target`
/// within `timeout`, and sets TCP_NODELAY. Errors: the errno of socket, bind or connect,
/// std::errc::timed_out, std::errc::operation_canceled.
[[nodiscard]] io::task<result<io::unique_fd>> dial_from(io::ring& ring, endpoint source,
                                                        endpoint target,
                                                        std::chrono::milliseconds timeout,
                                                        std::stop_token stop);

} // namespace spate::swarm
