#include <spate/bencode/value.hpp>

namespace spate::bencode {

value value::from(node n) {
    switch (n.type()) {
    case bencode::type::integer:
        return n.as_int();
    case bencode::type::string:
        return n.as_string();
    case bencode::type::list: {
        list l;
        l.reserve(n.size());
        for (const node element : n.list_items()) {
            l.push_back(from(element));
        }
        return l;
    }
    case bencode::type::dict: {
        dict d;
        for (const auto& [key, child] : n.dict_items()) {
            // A non-strict document may repeat a key: the first one wins, as in find().
            d.try_emplace(std::string(key), from(child));
        }
        return d;
    }
    case bencode::type::none:
        break;
    }
    return {};
}

bencode::type value::type() const {
    switch (m_data.index()) {
    case 0:
        return bencode::type::integer;
    case 1:
        return bencode::type::string;
    case 2:
        return bencode::type::list;
    default:
        return bencode::type::dict;
    }
}

std::int64_t value::as_int() const {
    const auto* v = std::get_if<std::int64_t>(&m_data);
    return v == nullptr ? 0 : *v;
}

const std::string& value::as_string() const {
    static const std::string empty;
    const auto* v = std::get_if<std::string>(&m_data);
    return v == nullptr ? empty : *v;
}

const value::list& value::as_list() const {
    static const list empty;
    const auto* v = std::get_if<list>(&m_data);
    return v == nullptr ? empty : *v;
}

const value::dict& value::as_dict() const {
    static const dict empty;
    const auto* v = std::get_if<dict>(&m_data);
    return v == nullptr ? empty : *v;
}

std::string& value::as_string() {
    if (auto* v = std::get_if<std::string>(&m_data)) {
        return *v;
    }
    return m_data.emplace<std::string>();
}

value::list& value::as_list() {
    if (auto* v = std::get_if<list>(&m_data)) {
        return *v;
    }
    return m_data.emplace<list>();
}

value::dict& value::as_dict() {
    if (auto* v = std::get_if<dict>(&m_data)) {
        return *v;
    }
    return m_data.emplace<dict>();
}

value& value::operator[](std::string_view key) {
    dict& d = as_dict();
    auto it = d.find(key);
    if (it == d.end()) {
        it = d.emplace(std::string(key), value()).first;
    }
    return it->second;
}

const value* value::find(std::string_view key) const {
    const auto* d = std::get_if<dict>(&m_data);
    if (d == nullptr) {
        return nullptr;
    }
    const auto it = d->find(key);
    return it == d->end() ? nullptr : &it->second;
}

template <typename Buffer> void value::encode(basic_encoder<Buffer>& e) const {
    if (const auto* i = std::get_if<std::int64_t>(&m_data)) {
        e.integer(*i);
    } else if (const auto* str = std::get_if<std::string>(&m_data)) {
        e.string(std::string_view(*str));
    } else if (const auto* l = std::get_if<list>(&m_data)) {
        e.begin_list();
        for (const value& element : *l) {
            element.encode(e);
        }
        e.end_list();
    } else if (const auto* d = std::get_if<dict>(&m_data)) {
        e.begin_dict();
        for (const auto& [key, child] : *d) {
            e.key(key);
            child.encode(e);
        }
        e.end_dict();
    }
}

std::string value::encode() const {
    std::string out;
    encoder e(out);
    encode(e);
    return out;
}

template void value::encode(basic_encoder<std::string>&) const;
template void value::encode(basic_encoder<std::vector<std::byte>>&) const;

} // namespace spate::bencode
