#pragma once
/// Magnet URIs (BEP 9): `magnet:?xt=urn:btih:<info-hash>&dn=...&tr=...`.
///
/// Parsing rules:
/// - the scheme `magnet:?` is matched case-insensitively; anything else is errc::not_a_magnet;
/// - parameters are split on '&', then at the first '='; a numbered key such as `tr.1`
///   counts as `tr`; unknown keys (and other `xt` URNs such as `urn:btmh:`) are ignored;
/// - values are percent-decoded; a '%' not followed by two hex digits is
///   errc::magnet_bad_escape; '+' means a space in `dn` only (URLs keep it literally);
/// - `xt=urn:btih:` takes 40 hex digits or 32 base32 characters (RFC 4648, any case);
///   repeating the same hash is fine, two different ones are an error;
/// - `tr` and `ws` keep their order; empty values are dropped;
/// - `x.pe` is `host:port` or `[v6-address]:port` with a port from 1 to 65535;
/// - `so` is a comma-separated list of file indices and inclusive ranges (`0,2,4-6`).

#include <spate/core/hash.hpp>
#include <spate/core/result.hpp>
#include <spate/core/strong_index.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spate::metainfo {

/// A peer named in `x.pe`. `host` is a name, an IPv4 address, or an IPv6 address without
/// its brackets.
struct magnet_peer {
    std::string host;
    std::uint16_t port = 0;

    bool operator==(const magnet_peer&) const = default;
};

/// An inclusive range of file indices from `so`; a single index has first == last.
struct file_selection {
    file_index first;
    file_index last;

    bool operator==(const file_selection&) const = default;
};

/// A parsed magnet URI; owns all its strings.
struct magnet_uri {
    sha1_digest info_hash;
    /// `dn`, decoded; empty when absent.
    std::string display_name;
    /// `tr`, in URI order.
    std::vector<std::string> trackers;
    /// `ws`, in URI order.
    std::vector<std::string> web_seeds;
    /// `x.pe`, in URI order.
    std::vector<magnet_peer> peers;
    /// `so`, in URI order; empty means every file.
    std::vector<file_selection> selected_files;

    bool operator==(const magnet_uri&) const = default;

    /// True when `so` is absent or names `file`.
    [[nodiscard]] bool selects(file_index file) const;
};

/// Parses `text` (borrowed for the call only).
[[nodiscard]] result<magnet_uri> parse_magnet(std::string_view text);

/// Writes `uri` as a magnet URI that parse_magnet() reads back to an equal value. The
/// info-hash is written in lower-case hex.
[[nodiscard]] std::string to_string(const magnet_uri& uri);

} // namespace spate::metainfo
