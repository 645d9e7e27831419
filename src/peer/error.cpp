#include <spate/peer/error.hpp>

#include <string>

namespace spate::peer {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.peer"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::bad_protocol_string:
            return "handshake does not start with the 19-byte 'BitTorrent protocol' string";
        case errc::wrong_info_hash:
            return "handshake names a torrent other than the one expected";
        case errc::message_too_long:
            return "message is longer than the limit for its kind";
        case errc::bad_message_length:
            return "message length does not match the fixed size of its kind";
        case errc::unknown_info_hash:
            return "peer asked for a torrent we do not serve";
        case errc::idle_timeout:
            return "peer sent nothing for longer than the idle timeout";
        case errc::send_stalled:
            return "peer stopped reading what we send";
        case errc::bad_extension_handshake:
            return "extension handshake is not a bencoded dictionary of at most 64 KiB";
        case errc::extended_message_too_long:
            return "extended message is longer than 64 KiB";
        case errc::frame_mismatch:
            return "message body is shorter than its frame or starts with another id";
        case errc::bitfield_wrong_size:
            return "bitfield length does not match the torrent's piece count";
        case errc::bitfield_spare_bits:
            return "bitfield has spare bits set past the last piece";
        case errc::bitfield_not_first:
            return "a late bitfield withdrew pieces the peer had announced";
        case errc::index_out_of_range:
            return "piece index is past the last piece";
        case errc::bad_block:
            return "block is empty or does not lie within its piece";
        case errc::request_too_long:
            return "requested block is longer than 16 KiB";
        case errc::unrequested_piece:
            return "piece data arrived for a block that was not requested";
        case errc::piece_length_out_of_range:
            return "piece length is zero or larger than 512 MiB";
        case errc::inconsistent_sizes:
            return "piece count does not match the total size and piece length";
        }
        return "unknown peer error";
    }
};

} // namespace

const std::error_category& peer_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), peer_category()};
}

} // namespace spate::peer
