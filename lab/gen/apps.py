"""Lab applications for the generator: a threaded server and one-step clients.

apps.py server SPEC [SPEC ...]      SPEC = ADDR,PORT,MODE[,key=value...]; prints READY
  http      answer requests; Connection: close -> FIN after the answer; keep-alive -> wait
            for the next request, closing with FIN after idle=SECS (default 8) of silence.
            GET /size/N answers N body bytes.
  abort     read 24 bytes, send part of a response, close with SO_LINGER {1,0}
  unread    answer 413 after the head, wait for the body, close with it unread (kernel RST)
  stream    send a head announcing 1,000,000 bytes: rest=N sends N bytes at once and waits;
            trickle=MS sends 1400 bytes every MS ms until the peer resets (or 6 s)
  duplex    send 500 bytes every 40 ms and read what comes, until reset or idle=SECS
  bgp       ttl=N: IP_TTL / IPV6_UNICAST_HOPS N on the listener (GTSM-like); read a message,
            answer, read until EOF, close

apps.py client CMD ...   one step; prints what happened; exit 1 if it did not end as planned
  get HOST PORT SIZE | keepalive HOST PORT N | refused HOST PORT | abort HOST PORT |
  unread HOST PORT | download HOST PORT MODE(idle|rest|flight) [PORT2] | idle HOST PORT SECS |
  stale HOST PORT FLAG | blocked HOST PORT | injected HOST PORT VHOST [ka] | probe HOST PORT |
  linger2 HOST PORT | duplex HOST PORT | bgp HOST PORT TTL
"""
import os, select, socket, struct, sys, threading, time

BODY_LINE = b"a line of a small text body served by the rstscope generator lab\n"


def log(*a):
    print(*a, flush=True)


def body(n):
    return (BODY_LINE * (n // len(BODY_LINE) + 1))[:n]


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


def response(n, keep, status="200 OK"):
    head = ("HTTP/1.1 %s\r\nServer: rstscope-gen\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\nConnection: %s\r\n\r\n" % (status, n, "keep-alive" if keep else "close"))
    return head.encode() + body(n)


def size_of(head):
    try:
        path = head.split(b" ", 2)[1]
        if path.startswith(b"/size/"):
            return int(path[6:])
    except (IndexError, ValueError):
        pass
    return 700


def unread_bytes(conn):
    try:
        return len(conn.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, OSError):
        return 0


def serve(conn, mode, opt):
    if mode == "http":
        idle = float(opt.get("idle", 8))
        conn.settimeout(idle)
        n = 0
        while True:
            try:
                head = read_head(conn)
            except socket.timeout:
                return "idle for %g s after %d requests, closing with FIN" % (idle, n)
            if head is None:
                return "client closed after %d requests" % n
            n += 1
            keep = b"\r\nconnection: keep-alive\r\n" in head.lower()
            conn.sendall(response(size_of(head), keep))
            if not keep:
                return "answered %d, closing with FIN" % n
    if mode == "abort":
        conn.settimeout(5)
        part = conn.recv(24)
        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: rstscope-gen\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 4096\r\n\r\n" + body(300))
        time.sleep(0.1)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return "read %d bytes, aborted mid-response with SO_LINGER {1,0}" % len(part)
    if mode == "unread":
        conn.settimeout(5)
        head = read_head(conn)
        if head is None:
            return "client closed before a request"
        msg = b"request body too large\n"
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nServer: rstscope-gen\r\n"
                     b"Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(msg) + msg)
        until = time.monotonic() + 3
        while unread_bytes(conn) == 0 and time.monotonic() < until:
            time.sleep(0.01)
        time.sleep(0.1)
        return "closing with %d request bytes unread (kernel RST)" % unread_bytes(conn)
    if mode == "stream":
        conn.settimeout(6)
        if read_head(conn) is None:
            return "client closed before a request"
        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: rstscope-gen\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 1000000\r\nConnection: close\r\n\r\n")
        if "rest" in opt:
            conn.sendall(b"d" * int(opt["rest"]))
            try:
                return "sent %s bytes, then the client sent %r" % (opt["rest"], conn.recv(1))
            except (ConnectionResetError, socket.timeout) as e:
                return "sent %s bytes; %r" % (opt["rest"], e)
        gap = float(opt.get("trickle", 20)) / 1000.0
        sent, until = 0, time.monotonic() + 6
        try:
            while time.monotonic() < until:
                conn.sendall(b"e" * 1400)
                sent += 1400
                time.sleep(gap)
        except (ConnectionResetError, BrokenPipeError) as e:
            return "trickled %d bytes until %r" % (sent, e)
        return "trickled %d bytes without a reset" % sent
    if mode == "duplex":
        idle = float(opt.get("idle", 6))
        conn.setblocking(False)
        last_in, sent, got = time.monotonic(), 0, 0
        next_send = time.monotonic()
        try:
            while time.monotonic() - last_in < idle:
                now = time.monotonic()
                if now >= next_send and sent < 400 * 500:
                    conn.send(b"s" * 500)
                    sent += 500
                    next_send = now + 0.04
                r, _, _ = select.select([conn], [], [], 0.01)
                if r:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return "client closed (sent %d, got %d)" % (sent, got)
                    got += len(chunk)
                    last_in = time.monotonic()
        except (ConnectionResetError, BrokenPipeError) as e:
            return "duplex ended by %r (sent %d, got %d)" % (e, sent, got)
        conn.setblocking(True)
        return "duplex idle for %g s (sent %d, got %d), closing with FIN" % (idle, sent, got)
    if mode == "bgp":
        conn.settimeout(5)
        msg = conn.recv(4096)
        conn.sendall(b"\xff" * 16 + b"\x00\x1d\x01\x04\xfd\xe9\x00\xb4\xc6\x33\x64\x01\x00")
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                return "bgp-like session: got %d bytes, peer closed" % len(msg)
    raise ValueError("unknown mode " + mode)


def handle(conn, peer, port, mode, opt):
    try:
        outcome = serve(conn, mode, opt)
    except Exception as e:  # keep serving; the capture shows what happened
        outcome = "error: %r" % e
    try:
        conn.close()
    except OSError:
        pass
    log("port %d %s from %s: %s" % (port, mode, peer[0], outcome))


def server(specs):
    listeners = []
    for spec in specs:
        parts = spec.split(",")
        addr, port, mode = parts[0], int(parts[1]), parts[2]
        opt = dict(kv.split("=", 1) for kv in parts[3:])
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if "ttl" in opt:
            if fam == socket.AF_INET:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(opt["ttl"]))
            else:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, int(opt["ttl"]))
        s.bind((addr, port))
        s.listen(16)
        listeners.append((s, port, mode, opt))
    log("READY")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r, _, _ = select.select([l[0] for l in listeners], [], [], 1)
        for s, port, mode, opt in listeners:
            if s in r:
                conn, peer = s.accept()
                threading.Thread(target=handle, args=(conn, peer, port, mode, opt), daemon=True).start()


# ------------------------------------------------------------------------------------ client

def say(*a):
    print("client:", *a, flush=True)


def fail(msg):
    say("UNEXPECTED:", msg)
    sys.exit(1)


def connect(host, port, ttl=None, timeout=5):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if ttl is not None:
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def request(host, path, keep, body_bytes=b"", vhost=None):
    h = vhost or ("[%s]" % host if ":" in host else host)
    method = "POST" if body_bytes else "GET"
    head = ("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rstscope-gen/1\r\nAccept: */*\r\n"
            % (method, path, h))
    if body_bytes:
        head += "Content-Type: text/plain\r\nContent-Length: %d\r\n" % len(body_bytes)
    head += "Connection: %s\r\n\r\n" % ("keep-alive" if keep else "close")
    return head.encode() + body_bytes


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            fail("connection closed before a full response head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            fail("connection closed inside the body")
        rest += chunk
    return head.split(b"\r\n")[0].decode(), rest


def expect_reset(s, what):
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                fail("%s: closed with FIN instead of a reset" % what)
    except ConnectionResetError:
        say("%s: reset, as planned" % what)
    except socket.timeout:
        fail("%s: no reset within the timeout" % what)


def client(argv):
    cmd, host, port = argv[0], argv[1], int(argv[2])
    if cmd == "get":
        s = connect(host, port)
        s.sendall(request(host, "/size/%d" % int(argv[3]), False))
        status, b = read_response(s)
        if s.recv(1) != b"":
            fail("data after the response")
        s.close()
        say("GET %d bytes from %s port %d: %s, closed by FIN" % (len(b), host, port, status))
    elif cmd == "keepalive":
        s = connect(host, port)
        for i in range(int(argv[3])):
            s.sendall(request(host, "/size/%d" % (300 + 200 * i), True))
            read_response(s)
            time.sleep(0.05)
        s.close()
        say("%s keep-alive requests to %s port %d, closed with FIN" % (argv[3], host, port))
    elif cmd == "refused":
        try:
            s = connect(host, port)
        except ConnectionRefusedError:
            say("connection to %s port %d refused, as planned" % (host, port))
            return
        except socket.timeout:
            fail("no answer to the SYN")
        s.close()
        fail("connection to %s port %d was accepted" % (host, port))
    elif cmd == "abort":
        s = connect(host, port)
        s.sendall(request(host, "/upload", False, body_bytes=b"x" * 200))
        expect_reset(s, "server abort")
    elif cmd == "unread":
        b = b"y" * 2000
        req = request(host, "/upload", False, body_bytes=b)
        s = connect(host, port)
        s.sendall(req[: len(req) - len(b)])
        time.sleep(0.05)
        s.sendall(b)
        status, _ = read_response(s)
        expect_reset(s, "413 then unread body")
    elif cmd == "download":
        mode = argv[3]
        if mode == "idle":
            s = connect(host, port)
            s.sendall(request(host, "/size/900", True))
            read_response(s)
            time.sleep(0.2)
        else:
            s = connect(host, port)
            s.sendall(request(host, "/large.bin", False))
            data = b""
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 3000:
                chunk = s.recv(1500)
                if not chunk:
                    fail("server closed after %d bytes" % len(data))
                data += chunk
            if mode == "rest":
                time.sleep(0.15)  # the rest of the burst sits in our receive buffer
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        say("aborted (%s) with SO_LINGER {1,0}" % mode)
        time.sleep(0.3)
    elif cmd == "idle":
        secs = float(argv[3])
        s = connect(host, port)
        s.sendall(request(host, "/first", True))
        read_response(s)
        say("first request answered; silent for %g s" % secs)
        time.sleep(secs)
        try:
            s.sendall(request(host, "/second", True))
        except ConnectionResetError:
            say("reset before the second request was sent")
            return
        expect_reset(s, "second request after the silence")
    elif cmd == "stale":
        flag = argv[3]
        s = connect(host, port)
        s.sendall(request(host, "/first", True))
        read_response(s)
        say("WAITING for the server to lose the connection")
        until = time.monotonic() + 20
        while not os.path.exists(flag):
            if time.monotonic() > until:
                fail("no flag within 20 s")
            time.sleep(0.02)
        s.sendall(request(host, "/second", True))
        expect_reset(s, "request to a server without the connection")
    elif cmd == "blocked":
        s = connect(host, port)
        s.sendall(request(host, "/blocked/page.html", True))
        expect_reset(s, "request for /blocked")
    elif cmd == "injected":
        s = connect(host, port)
        if len(argv) > 4 and argv[4] == "ka":  # a normal request first, on the same connection
            s.sendall(request(host, "/size/1200", True))
            read_response(s)
            time.sleep(0.05)
        s.sendall(request(host, "/", False, vhost=argv[3]))
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    say("request for %s: %d bytes, then FIN" % (argv[3], len(got)))
                    break
                got += chunk
        except ConnectionResetError:
            say("request for %s: reset after %d bytes" % (argv[3], len(got)))
        except socket.timeout:
            say("request for %s: timeout after %d bytes" % (argv[3], len(got)))
        time.sleep(0.2)
    elif cmd == "probe":
        s = connect(host, port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        say("health check: connected and reset at once")
    elif cmd == "linger2":
        s = connect(host, port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_LINGER2, -1)
        s.sendall(request(host, "/index.html", True))
        read_response(s)
        s.close()
        say("closed with FIN, TCP_LINGER2 -1")
        time.sleep(0.3)
    elif cmd == "duplex":
        s = connect(host, port)
        s.setblocking(False)
        start = time.monotonic()
        told = False
        next_send = start
        try:
            while time.monotonic() - start < 8:
                now = time.monotonic()
                if now >= next_send:
                    s.send(b"c" * 80)
                    next_send = now + 0.06
                if not told and now - start > 0.3:
                    say("RUNNING")
                    told = True
                r, _, _ = select.select([s], [], [], 0.01)
                if r:
                    if not s.recv(65536):
                        fail("duplex: server closed with FIN")
        except (ConnectionResetError, BrokenPipeError) as e:
            say("duplex: reset (%r), as planned" % e)
            return
        fail("duplex: no reset within 8 s")
    elif cmd == "bgp":
        ttl = int(argv[3])
        s = connect(host, port, ttl=ttl)
        s.sendall(b"\xff" * 16 + b"\x00\x1d\x01\x04\xfd\xe8\x00\xb4\xc0\x00\x02\x0a\x00")
        s.recv(4096)
        time.sleep(0.05)
        s.sendall(b"\xff" * 16 + b"\x00\x13\x04")
        time.sleep(0.05)
        s.close()
        say("bgp-like session with IP TTL %d, closed with FIN" % ttl)
        time.sleep(0.2)
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2:])
    else:
        client(sys.argv[2:])
