#pragma once
// Which URLs a torrent may carry as trackers and web seeds. Private to the module: the
// parser drops other URLs and the writer refuses them, so what one writes the other reads.

#include <string_view>

namespace spate::metainfo::detail {

/// An http://, https:// or udp:// URL (scheme in any case) with a host part and no
/// spaces or control characters.
[[nodiscard]] bool is_tracker_url(std::string_view url);

/// An http:// or https:// URL, under the same rules.
[[nodiscard]] bool is_web_seed_url(std::string_view url);

} // namespace spate::metainfo::detail
