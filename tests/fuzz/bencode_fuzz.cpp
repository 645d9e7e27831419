// libFuzzer target for the bencode decoder. Beyond "no crash, no sanitizer report" it
// checks what a decoded document promises: raw spans that tile the input, children counts
// that match iteration, strict documents that re-encode to their exact input, and a
// non-strict decode that differs from the strict one only where key order is concerned.

#include <spate/bencode/document.hpp>
#include <spate/bencode/value.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace {

namespace bc = spate::bencode;

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

bool within(std::span<const std::byte> inner, std::span<const std::byte> outer) {
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

// Visits every node; returns how many it saw.
std::size_t check_node(bc::node n, std::span<const std::byte> input, bool strict) {
    FUZZ_CHECK(n.valid());
    const auto raw = n.raw();
    FUZZ_CHECK(!raw.empty());
    FUZZ_CHECK(within(raw, input));
    FUZZ_CHECK(n.offset() == static_cast<std::size_t>(raw.data() - input.data()));
    std::size_t seen = 1;
    switch (n.type()) {
    case bc::type::integer:
        FUZZ_CHECK(raw.front() == std::byte{'i'} && raw.back() == std::byte{'e'});
        // Integers are canonical in both modes (no leading zeros, no -0).
        FUZZ_CHECK(bc::value(n.as_int()).encode() ==
                   std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
        break;
    case bc::type::string: {
        const auto bytes = n.as_bytes();
        FUZZ_CHECK(within(bytes, raw));
        FUZZ_CHECK(bytes.data() + bytes.size() == raw.data() + raw.size());
        FUZZ_CHECK(n.as_string().size() == bytes.size());
        break;
    }
    case bc::type::list: {
        FUZZ_CHECK(raw.front() == std::byte{'l'} && raw.back() == std::byte{'e'});
        std::size_t count = 0;
        // Children tile the list's bytes between `l` and `e`.
        const std::byte* cursor = raw.data() + 1;
        for (const bc::node element : n.list_items()) {
            FUZZ_CHECK(element.raw().data() == cursor);
            cursor += element.raw().size();
            if (count < 4) {
                FUZZ_CHECK(n.at(count) == element);
            }
            seen += check_node(element, input, strict);
            ++count;
        }
        FUZZ_CHECK(cursor == raw.data() + raw.size() - 1);
        FUZZ_CHECK(count == n.size());
        FUZZ_CHECK(!n.at(count));
        break;
    }
    case bc::type::dict: {
        FUZZ_CHECK(raw.front() == std::byte{'d'} && raw.back() == std::byte{'e'});
        std::size_t count = 0;
        std::string_view previous;
        for (const auto& [key, child] : n.dict_items()) {
            if (strict) {
                FUZZ_CHECK(count == 0 || previous < key);
                FUZZ_CHECK(n.find(key) == child);
            }
            FUZZ_CHECK(n.find(key).valid());
            previous = key;
            seen += 1 + check_node(child, input, strict);
            ++count;
        }
        FUZZ_CHECK(count == n.size());
        break;
    }
    case bc::type::none:
        FUZZ_CHECK(false);
        break;
    }
    return seen;
}

bool is_key_order_error(const bc::decode_error& e) {
    return e.code == bc::errc::unsorted_keys || e.code == bc::errc::duplicate_key;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = std::as_bytes(std::span(data, size));
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto strict = bc::decode(input);
    auto lax = bc::decode(input, bc::limits{.strict = false});

    if (strict) {
        const bc::node root = strict->root();
        FUZZ_CHECK(root.raw().data() == input.data() && root.raw().size() == input.size());
        check_node(root, input, true);
        // Strict bencode is canonical: one encoding per value.
        FUZZ_CHECK(bc::value::from(root).encode() == text);
        FUZZ_CHECK(lax && lax->token_count() == strict->token_count());
    } else {
        FUZZ_CHECK(strict.error().offset <= size);
        FUZZ_CHECK(!strict.error().message().empty());
        if (!is_key_order_error(strict.error())) {
            // Up to the first error both modes take the same path.
            FUZZ_CHECK(!lax && lax.error() == strict.error());
        }
    }

    if (lax) {
        check_node(lax->root(), input, false);
        // Re-encoding sorts keys and drops repeats: the result is strict and stable.
        const bc::value copy = bc::value::from(lax->root());
        const std::string canonical = copy.encode();
        auto again = bc::decode(canonical);
        FUZZ_CHECK(again);
        FUZZ_CHECK(bc::value::from(again->root()) == copy);
    }

    // Tight limits may only refuse more, never accept something else.
    bc::document small;
    if (small.parse(input, bc::limits{.max_depth = 3, .max_tokens = 32})) {
        FUZZ_CHECK(strict && small.token_count() == strict->token_count());
    }
    return 0;
}
