#pragma once
// What `spate download` and `spate seed` share: identity, signals, incoming handshakes,
// finding the data already on disk, and keeping the resume file current.

#include <spate/core/bitfield.hpp>
#include <spate/core/endpoint.hpp>
#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/io/buffer_pool.hpp>
#include <spate/io/ring.hpp>
#include <spate/io/signals.hpp>
#include <spate/io/task.hpp>
#include <spate/io/unique_fd.hpp>
#include <spate/metainfo/torrent_info.hpp>
#include <spate/peer/handshake.hpp>
#include <spate/picker/piece_picker.hpp>
#include <spate/io/scope.hpp>
#include <spate/session/handshake_gate.hpp>
#include <spate/session/listener.hpp>
#include <spate/session/torrent_download.hpp>
#include <spate/storage/file_storage.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>

namespace spate::cli {

/// Random bytes from getrandom(2), or a weaker but distinct sequence without entropy.
void fill_random(std::span<std::byte> bytes);
[[nodiscard]] std::uint64_t random_u64();
[[nodiscard]] peer::peer_id make_peer_id();

/// Waits for a signal of `signals`; stores its number in *which and stops `interrupt`.
/// Returns without doing anything when `stop` comes first.
io::task<void> watch_signals(io::ring& ring, io::signal_set& signals, std::stop_source interrupt,
                             std::stop_token stop, int* which);

/// Which torrent of ours an info-hash names (nullptr: none).
using torrent_lookup = std::function<session::torrent_download*(const sha1_digest&)>;

/// A peer that dialled us: reads its handshake, answers for the torrent it names when
/// `lookup` finds one, and hands it the connection. The ring is borrowed; `admitted` is
/// the connection's place in the handshake gate, held until the handshake is over.
io::task<void> greet(io::ring& ring, io::unique_fd socket, endpoint remote, torrent_lookup lookup,
                     peer::peer_id self, session::handshake_gate::ticket admitted,
                     std::stop_token stop);

/// The listener's callback for download and seed: each accepted connection enters `gate`
/// (evicting the oldest pending handshake when it is full) and is greeted in `incoming`.
/// Everything is borrowed and must outlive the listener's run.
[[nodiscard]] session::listener::accept_function
greet_accepted(io::ring& ring, io::scope& incoming, session::handshake_gate& gate,
               torrent_lookup lookup, peer::peer_id self);

/// True when any payload file of `torrent` exists under `root`.
[[nodiscard]] bool any_payload_exists(const std::string& root,
                                      const metainfo::torrent_info& torrent);

struct existing_data {
    bitfield good;
    bool from_resume_file = false; ///< trusted without hashing: no file changed since
};

/// The pieces already good under `root`: from the resume file when every file is as it
/// recorded, else hashed with pipelined reads (a progress line on a terminal). Everything
/// passed is borrowed until the task completes.
io::task<result<existing_data>> find_existing(io::ring& ring, storage::file_storage& storage,
                                              const metainfo::torrent_info& torrent,
                                              std::string root, io::buffer_pool& pool,
                                              std::stop_token stop);

/// What save_progress() did beyond the fsync: the resume file is a shortcut for the next
/// run (which otherwise checks the data), so failing to write it is reported apart.
struct saved_progress {
    std::error_code resume_error; ///< why the resume file was not written; empty when it was
};

/// Makes the resume file claim what is on disk now: the have-bitfield is taken before the
/// fsync, so it names only pieces whose writes completed before the fsync was issued.
/// Fails when the fsync (or a file's stat) fails: then the data itself may not be safe.
io::task<result<saved_progress>> save_progress(io::ring& ring, storage::file_storage& storage,
                                               const metainfo::torrent_info& torrent,
                                               const picker::piece_picker& picker,
                                               std::string root);

} // namespace spate::cli
