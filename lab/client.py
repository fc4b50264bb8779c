"""Lab client: run one step and check that it ended the way the scenario says; exit 1 if not.

get HOST PORT PATH       a request with Connection: close, read to EOF       (expects FIN)
refused HOST PORT        a connection attempt that must be refused           (expects RST)
abort HOST PORT          send a request, read until the server resets        (expects RST)
idle HOST PORT SECS      one request, SECS of silence, a second request      (expects RST)
unread HOST PORT         POST head, then 2000 body bytes 50 ms later; the server answers 413
                         and closes without reading the body                 (expects RST)
download HOST PORT       start a 1,000,000-byte download, read 3000 body bytes, then abort
                         with SO_LINGER {1,0}                                (we send RST)
stale HOST PORT FLAG     one keep-alive request, wait until the file FLAG exists (the server
                         address moved to a host without the connection), a second request
                                                                             (expects RST)
blocked HOST PORT PATH   a request for PATH that an in-path device rejects  (expects RST)
injected HOST PORT VHOST a request with Host: VHOST; a forged RST arrives before the answer
                                                                             (expects RST)
probe HOST PORT          connect, then close at once with SO_LINGER {1,0}    (we send RST)
linger2 HOST PORT        one keep-alive request, then close with TCP_LINGER2 -1: the socket
                         is gone once our FIN is ACKed, so the server's FIN draws a RST
"""
import socket, struct, sys, os, time

TIMEOUT = 5


def say(*a):
    print("client:", *a, flush=True)


def fail(msg):
    say("UNEXPECTED:", msg)
    sys.exit(1)


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


def request(host, path, keep, body=b"", vhost=None):
    h = vhost or ("[%s]" % host if ":" in host else host)
    method = "POST" if body else "GET"
    head = ("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rstscope-lab/1\r\nAccept: */*\r\n"
            % (method, path, h))
    if body:
        head += "Content-Type: text/plain\r\nContent-Length: %d\r\n" % len(body)
    head += "Connection: %s\r\n\r\n" % ("keep-alive" if keep else "close")
    return head.encode() + body


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            fail("connection closed before a full response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            fail("connection closed inside the body")
        body += chunk
    return head.split(b"\r\n")[0].decode(), body


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "get":
        path = sys.argv[4]
        s = connect(host, port)
        s.sendall(request(host, path, False))
        status, body = read_response(s)
        if s.recv(1) != b"":
            fail("data after the response")
        s.close()
        say("GET %s from %s port %d: %s, %d body bytes, closed by FIN" % (path, host, port, status, len(body)))
    elif cmd == "refused":
        try:
            s = connect(host, port)
        except ConnectionRefusedError:
            say("connection to %s port %d refused (RST), as expected" % (host, port))
            return
        s.close()
        fail("connection to %s port %d was accepted" % (host, port))
    elif cmd == "abort":
        s = connect(host, port)
        s.sendall(request(host, "/upload", False, body=b"x" * 200))
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    fail("server closed with FIN after %d bytes" % len(got))
                got += chunk
        except ConnectionResetError:
            say("reset by the server after %d bytes of a response announcing 4096 body bytes" % len(got))
        s.close()
    elif cmd == "idle":
        secs = float(sys.argv[4])
        s = connect(host, port)
        s.sendall(request(host, "/first", True))
        status, _ = read_response(s)
        say("first request answered: %s; idle for %g s" % (status, secs))
        time.sleep(secs)
        try:
            s.sendall(request(host, "/second", True))
            chunk = s.recv(4096)
            fail("second request got %r instead of a reset" % chunk[:40])
        except ConnectionResetError:
            say("second request reset, as expected")
        s.close()
    elif cmd == "unread":
        body = b"y" * 2000
        req = request(host, "/upload", False, body=body)
        head = req[: len(req) - len(body)]
        s = connect(host, port)
        s.sendall(head)
        time.sleep(0.05)  # the head in its own segment, so the server reads exactly the head
        s.sendall(body)
        status, _ = read_response(s)
        try:
            chunk = s.recv(1)
            fail("after %s the server sent %r instead of a reset" % (status, chunk))
        except ConnectionResetError:
            say("got %s, then a reset: the server closed with our body unread" % status)
        s.close()
    elif cmd == "download":
        s = connect(host, port)
        s.sendall(request(host, "/large.bin", False))
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 3000:
            chunk = s.recv(4096)
            if not chunk:
                fail("server closed after %d bytes" % len(data))
            data += chunk
        got = len(data.partition(b"\r\n\r\n")[2])
        time.sleep(0.1)  # our ACKs go out; the server sends nothing more until we act
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        say("aborted the download after %d of 1000000 body bytes (SO_LINGER {1,0})" % got)
    elif cmd == "stale":
        flag = sys.argv[4]
        s = connect(host, port)
        s.sendall(request(host, "/first", True))
        status, _ = read_response(s)
        say("first request answered: %s; waiting for the server address to move" % status)
        until = time.monotonic() + 20
        while not os.path.exists(flag):
            if time.monotonic() > until:
                fail("the address did not move within 20 s")
            time.sleep(0.05)
        try:
            s.sendall(request(host, "/second", True))
            chunk = s.recv(4096)
            fail("second request got %r instead of a reset" % chunk[:40])
        except ConnectionResetError:
            say("second request reset by the host that took over the address, as expected")
        s.close()
    elif cmd in ("blocked", "injected"):
        path, vhost = (sys.argv[4], None) if cmd == "blocked" else ("/", sys.argv[4])
        s = connect(host, port)
        s.sendall(request(host, path, False, vhost=vhost))
        try:
            chunk = s.recv(4096)
            fail("request for %s got %r instead of a reset" % (vhost or path, chunk[:40]))
        except ConnectionResetError:
            say("request for %s reset, as expected" % (vhost or path))
        s.close()
    elif cmd == "probe":
        s = connect(host, port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        say("connected to %s port %d and reset at once (SO_LINGER {1,0})" % (host, port))
    elif cmd == "linger2":
        s = connect(host, port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_LINGER2, -1)
        s.sendall(request(host, "/index.html", True))
        status, body = read_response(s)
        s.close()
        say("%s, %d body bytes; closed with FIN, TCP_LINGER2 -1 (no FIN_WAIT2)" % (status, len(body)))
    else:
        fail("unknown command " + cmd)


main()
