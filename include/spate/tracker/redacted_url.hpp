#pragma once
/// redacted_url: a tracker URL fit to print, with its secrets replaced by "***".
///
/// Private trackers put a per-user passkey in the announce URL: in the query
/// ("?passkey=..."), as a path segment ("/0123abcd.../announce"), or as user info
/// ("user:pass@host"). Whoever reads a log or a --json stream must not learn it. The one
/// policy, applied to every URL spate prints:
///   - user info before '@' becomes "***@";
///   - every query value becomes "***" (names stay: "?passkey=***&uid=***"), and a bare
///     query item of 16 characters or more becomes "***";
///   - a path segment of 16 characters or more made of letters, digits, '-' and '_',
///     with at least one digit, becomes "***";
///   - a fragment is dropped.
/// Scheme, host, port and the rest of the path stay, so the tracker can still be told apart.

#include <string>
#include <string_view>

namespace spate::tracker {

[[nodiscard]] std::string redacted_url(std::string_view url);

} // namespace spate::tracker
