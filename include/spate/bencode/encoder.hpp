#pragma once
/// The bencode encoder: appends values to a caller's buffer as they are named, for
/// torrents and tracker messages. value.hpp builds on it for trees held in memory.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spate::bencode {

/// Appends bencode to a borrowed `Buffer` (std::string or std::vector<std::byte>), which
/// must outlive the encoder. Dictionary keys must come in ascending raw-byte order with
/// no repeats, each followed by exactly one value; begin/end calls must pair up. Debug
/// builds assert all of this; done() tells whether every container was closed.
///
///     encoder e(out);
///     e.begin_dict().key("interval").integer(1800).key("peers").string(compact).end_dict();
template <typename Buffer> class basic_encoder {
public:
    explicit basic_encoder(Buffer& out) : m_out(&out) {}

    basic_encoder& begin_dict();
    basic_encoder& end_dict();
    basic_encoder& begin_list();
    basic_encoder& end_list();
    /// A string value (or a dictionary key): `<length>:<bytes>`.
    basic_encoder& string(std::string_view s);
    basic_encoder& string(std::span<const std::byte> s);
    /// A dictionary key; the same bytes as string(), named for readability.
    basic_encoder& key(std::string_view k) { return string(k); }
    basic_encoder& integer(std::int64_t v);
    /// One value that is already encoded, copied as is: e.g. an `info` dictionary's raw()
    /// so that its info-hash stays the same.
    basic_encoder& raw(std::span<const std::byte> encoded);

    /// True when no list or dictionary is left open.
    [[nodiscard]] bool done() const { return m_open.empty(); }

private:
    struct open_container {
        bool is_dict;
        std::size_t count;     // children written, keys included
        std::size_t key_begin; // the previous key's bytes in the buffer (dicts only)
        std::size_t key_size;
    };

    void append(std::string_view bytes);
    void before_value(bool is_string, std::string_view key_bytes);

    Buffer* m_out;
    std::vector<open_container> m_open;
};

using encoder = basic_encoder<std::string>;
using byte_encoder = basic_encoder<std::vector<std::byte>>;

extern template class basic_encoder<std::string>;
extern template class basic_encoder<std::vector<std::byte>>;

} // namespace spate::bencode
