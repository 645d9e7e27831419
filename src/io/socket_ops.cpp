#include <spate/io/socket_ops.hpp>

namespace spate::io {

sendmsg_op::sendmsg_op(ring& owner, int fd, std::span<const std::span<const std::byte>> buffers,
                       const sockaddr* address, socklen_t length, int flags,
                       const op_options& options) noexcept
    : op(owner, options), m_fd(fd), m_flags(flags | MSG_NOSIGNAL) {
    if (buffers.size() > max_buffers) {
        m_too_many = true;
        return;
    }
    for (std::size_t i = 0; i < buffers.size(); ++i) {
        // The kernel takes iov_base as void* but only reads through it for sendmsg.
        m_iov[i].iov_base = const_cast<std::byte*>(buffers[i].data());
        m_iov[i].iov_len = buffers[i].size();
    }
    m_msg.msg_iov = m_iov.data();
    m_msg.msg_iovlen = buffers.size();
    if (address != nullptr) {
        socklen_t copied = length < sizeof(m_to) ? length : sizeof(m_to);
        std::memcpy(&m_to, address, copied);
        m_msg.msg_name = &m_to;
        m_msg.msg_namelen = copied;
    }
}

} // namespace spate::io
