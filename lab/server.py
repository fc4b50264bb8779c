"""Lab server. Each argument is ADDR,PORT,MODE; connections are served one at a time.

http       read the request head, answer 200 with Connection: close, close (FIN); a request
           with Connection: keep-alive is answered and the connection kept for the next one
keepalive  answer request after request on the same connection until EOF, reset or 30 s idle
abort      read only the first 24 bytes of the request, send part of a response, then close
           with SO_LINGER {on, 0 s}: the kernel discards the rest and sends RST
unread     read the request head only, answer 413 with Connection: close, wait until the
           request body has arrived, then close with the body still unread: the kernel sends
           RST instead of FIN (no SO_LINGER involved)
stream     read the request head, send a response head announcing 1,000,000 body bytes and the
           first 3000 of them, then wait for the client (which aborts the download)
"""
import selectors, socket, struct, sys, time

DEADLINE = time.monotonic() + 120
BODY = b"".join(b"line %02d of a small text body from the rstscope lab\n" % i for i in range(12))
STREAM_FIRST = 3000


def log(*a):
    print(*a, flush=True)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 16384:
            raise ValueError("request head too long")
    return data


def response(keep):
    head = ("HTTP/1.1 200 OK\r\nServer: rstscope-lab\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(BODY), "keep-alive" if keep else "close"))
    return head.encode() + BODY


def unread_bytes(conn):
    try:
        return len(conn.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return 0


def serve(conn, mode):
    conn.settimeout(30 if mode == "keepalive" else 5)
    if mode == "http":
        n = 0
        while True:
            head = read_head(conn)
            if head is None:
                return "client closed after %d requests" % n
            n += 1
            if b"\r\nconnection: keep-alive\r\n" not in head.lower():
                conn.sendall(response(False))
                return "answered, closing with FIN"
            conn.sendall(response(True))
            log("  answered request %d, keeping the connection open" % n)
    if mode == "keepalive":
        n = 0
        while True:
            try:
                if read_head(conn) is None:
                    return "client closed after %d requests" % n
            except (ConnectionResetError, socket.timeout) as e:
                return "connection ended after %d requests: %r" % (n, e)
            n += 1
            conn.sendall(response(True))
            log("  answered request %d" % n)
    if mode == "abort":
        part = conn.recv(24)
        log("  read %d bytes of the request: %r" % (len(part), part))
        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: rstscope-lab\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 4096\r\n\r\n" + BODY[:300])
        time.sleep(0.1)  # let the partial response reach the wire (and be ACKed) first
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return "aborted mid-response with SO_LINGER {1,0}"
    if mode == "unread":
        head = read_head(conn)
        if head is None:
            return "client closed before a request"
        log("  read the %d-byte request head, not the body" % len(head))
        msg = b"request body too large\n"
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nServer: rstscope-lab\r\n"
                     b"Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(msg) + msg)
        # Wait (bounded) until the body the client sends after the head is in the receive buffer.
        until = time.monotonic() + 2
        while unread_bytes(conn) == 0 and time.monotonic() < until:
            time.sleep(0.01)
        time.sleep(0.1)
        return "closing with %d request bytes unread (the kernel sends RST)" % unread_bytes(conn)
    if mode == "stream":
        if read_head(conn) is None:
            return "client closed before a request"
        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: rstscope-lab\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 1000000\r\nConnection: close\r\n\r\n" + b"d" * STREAM_FIRST)
        log("  sent the first %d of 1000000 body bytes; waiting for the client" % STREAM_FIRST)
        try:
            got = conn.recv(1)
            return "client ended the download with %r" % got
        except ConnectionResetError:
            return "client reset the download"
    raise ValueError("unknown mode " + mode)


def main():
    sel = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        addr, port, mode = spec.rsplit(",", 2)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(port)))
        s.listen(8)
        sel.register(s, selectors.EVENT_READ, mode)
    log("READY")
    while time.monotonic() < DEADLINE:
        for key, _ in sel.select(timeout=1):
            conn, peer = key.fileobj.accept()
            log("accepted %s port %d from %s" % (key.data, key.fileobj.getsockname()[1], peer[0]))
            try:
                outcome = serve(conn, key.data)
            except Exception as e:  # keep serving; the capture shows what happened
                outcome = "error: %r" % e
            conn.close()  # before logging: keep-alive connections close at once on EOF
            log("  " + outcome)
    log("deadline reached")


main()
