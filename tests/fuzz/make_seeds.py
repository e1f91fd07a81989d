#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/NAME (each target's input
layout is described at the top of its fuzz_NAME.c). Run from anywhere;
existing seeds of the same name are overwritten, others (a fuzzer's merged
finds, reproducers) are kept. The files are committed: CI replays them."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
COMPRESSED = 0x4000
ECHO, ECHO_DEFLATE, FAIL, ABORT, CLOSE = 0x0001, 0x0002, 0x0BAD, 0x0AB0, 0x0C10
UNHANDLED = 0x3000


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u16(v):
    return struct.pack(">H", v)


def frame(wire_id, payload=b"", size=None):
    return u16(len(payload) + 4 if size is None else size) + u16(wire_id) + payload


TEXT = b"FastPort frames carry a payload; " * 4
BOMB = zlib.compress(bytes(65535), 9)

# name -> (max_packet, stream)
STREAMS = {
    "one_frame": (65535, frame(0x0100, b"hello")),
    "empty_payload": (65535, frame(0x0100)),
    "echo": (65535, frame(ECHO, TEXT)),
    "echo_deflate": (65535, frame(ECHO_DEFLATE, TEXT)),
    "compressed": (65535, frame(0x0100 | COMPRESSED, zlib.compress(TEXT))),
    "compressed_echo": (65535, frame(ECHO | COMPRESSED, zlib.compress(TEXT))),
    "compressed_garbage": (65535, frame(0x0100 | COMPRESSED, b"\x78\x9cnot deflate")),
    "compressed_trailing": (65535, frame(0x0100 | COMPRESSED, zlib.compress(b"abc") + b"xx")),
    "compressed_truncated": (65535, frame(0x0100 | COMPRESSED, zlib.compress(TEXT)[:-3])),
    "compressed_empty": (65535, frame(0x0100 | COMPRESSED)),
    "bomb_over_cap": (1024, frame(0x0100 | COMPRESSED, BOMB)),
    "several": (65535, frame(0x0100, b"a") + frame(ECHO, b"bc") + frame(0x0200) + frame(0x0101, b"def")),
    "truncated": (65535, frame(0x0100, b"0123456789", size=24)),
    "header_half": (65535, frame(0x0100, b"ok") + b"\x00"),
    "size_below_4": (65535, frame(0x0100, b"ok") + u16(2) + u16(0x0100) + frame(0x0100, b"never")),
    "size_zero": (65535, u16(0) + u16(0)),
    "over_max_packet": (64, frame(0x0100, b"x" * 10) + frame(0x0100, b"y" * 80) + frame(0x0100)),
    "exactly_max_packet": (20, frame(0x0100, b"z" * 16) + frame(0x0100, b"z" * 17)),
    "max_packet_4": (4, frame(0x0100) + frame(0x0100 | COMPRESSED) + frame(0x0100, b"q")),
    "handler_fails": (65535, frame(0x0100, b"1") + frame(FAIL, b"2") + frame(0x0100, b"never")),
    "handler_aborts": (65535, frame(ABORT) + frame(0x0100, b"never") + u16(1)),
    "handler_closes": (65535, frame(0x0100) + frame(CLOSE, b"bye") + frame(ECHO, b"never")),
    "unhandled": (65535, frame(UNHANDLED, b"nobody") + frame(0x7FFF) + frame(0x0100, b"after")),
    "large_echo": (65535, frame(ECHO, bytes(range(256)) * 40)),
}


def framer_dispatch():
    for name, (max_packet, stream) in STREAMS.items():
        write("framer_dispatch", name, u16(max_packet) + stream)


def split():
    for name, (max_packet, stream) in STREAMS.items():
        # cuts: inside the first header, after it, and in the middle
        cuts = [1, 4, len(stream) // 2]
        write("split", name, u16(max_packet) + bytes([len(cuts)]) + b"".join(u16(c) for c in cuts) + stream)
    stream = frame(ECHO, TEXT) + frame(0x0100 | COMPRESSED, zlib.compress(TEXT)) + frame(0x0100, b"end")
    cuts = list(range(0, len(stream), 7))[:32]
    write("split", "many_cuts", u16(65535) + bytes([len(cuts)]) + b"".join(u16(c) for c in cuts) + stream)
    write("split", "no_cuts", u16(65535) + b"\x00" + stream)


def inflate():
    seeds = {
        "text": (65535, zlib.compress(TEXT)),
        "text_cap_exact": (len(TEXT), zlib.compress(TEXT)),
        "text_cap_short": (len(TEXT) - 1, zlib.compress(TEXT)),
        "empty_stream": (0, zlib.compress(b"")),
        "empty_input": (100, b""),
        "bomb": (65535, BOMB),
        "bomb_small_cap": (4096, BOMB),
        "trailing": (65535, zlib.compress(TEXT) + b"\x00"),
        "truncated": (65535, zlib.compress(TEXT)[:-1]),
        "bad_header": (65535, b"\x78\x9a" + zlib.compress(TEXT)[2:]),
        "stored_block": (65535, zlib.compress(bytes(range(200)), 0)),
        "plain_bytes": (65535, bytes(range(256))),
    }
    gz = zlib.compressobj(6, zlib.DEFLATED, 31)
    seeds["gzip"] = (65535, gz.compress(TEXT) + gz.flush())
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    seeds["raw_deflate"] = (65535, raw.compress(TEXT) + raw.flush())
    for name, (cap, data) in seeds.items():
        write("inflate", name, u16(cap) + data)


# ---- protobuf, by hand (plugins/fastport/proto) ----

def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(n, v):
    return varint(n << 3) + varint(v)


def field_bytes(n, b):
    return varint(n << 3 | 2) + varint(len(b)) + b


def field_double(n, v):
    return varint(n << 3 | 1) + struct.pack("<d", v)


def header(request_id, timestamp_ms):
    return field_bytes(1, field_varint(1, request_id) + field_varint(2, timestamp_ms))


TOKEN = b"fuzz-token"


def fastport_proto():
    echo = header(7, 1700000000) + field_bytes(2, b"\x00\x01binary") + field_bytes(3, b"text")
    bench = header(9, 1700000000123) + field_varint(2, 123456789) + field_varint(3, 42) + field_bytes(4, b"p" * 64)
    status_ok = header(1, 2) + field_bytes(2, TOKEN)
    status_wrong = header(1, 2) + field_bytes(2, b"guess")
    sessions_ok = header(3, 4) + field_varint(2, 1) + field_varint(3, 2) + field_bytes(4, TOKEN)
    sessions_all = field_bytes(4, TOKEN)
    sessions_big = field_varint(2, 5) + field_varint(3, 5000) + field_bytes(4, TOKEN)
    sessions_no_token = field_varint(2, 0) + field_varint(3, 10)
    malformed = b"\x0a\x05\x08"  # a header that claims 5 bytes and holds 1
    seeds = {
        "echo": (0, echo),
        "echo_empty": (0, b""),
        "echo_no_header": (0, field_bytes(2, b"data")),
        "echo_malformed": (0, malformed),
        "echo_large": (0, field_bytes(2, b"L" * 65000)),
        "benchmark": (1, bench),
        "benchmark_malformed": (1, b"\x10\xff\xff"),
        "status_token": (2, status_ok),
        "status_wrong_token": (2, status_wrong),
        "status_malformed": (2, malformed),
        "sessions_token": (3, sessions_ok),
        "sessions_all": (3, sessions_all),
        "sessions_offset_past_end": (3, sessions_big),
        "sessions_no_token": (3, sessions_no_token),
        "decode_echo_request": (4, echo),
        "decode_benchmark_request": (4, bench),
        "decode_status_response": (4, header(1, 2) + field_varint(2, 1) + field_varint(3, 1000) + field_varint(4, 3)
                                   + field_varint(8, 0) + field_double(10, 12.5) + field_bytes(12, b"fuzz")),
        "decode_sessions_response": (4, field_varint(3, 2) + field_bytes(5, field_varint(1, 1) + field_varint(2, 5))
                                     + field_bytes(5, field_varint(1, 2))),
        "decode_unknown_fields": (4, field_varint(15, 1) + field_bytes(16, b"?") + varint(17 << 3 | 5) + b"abcd"),
        "decode_tag_zero_long": (4, b"\x80\x00\x2d\x0a\x00"),
    }
    for name, (which, body) in seeds.items():
        write("fastport_proto", name, bytes([which]) + body)


def options():
    lines = {
        "server_minimal": ["--plugin=echo"],
        "server_full": ["--plugin=echo,fastport", "--listen=127.0.0.1:6628", "--listen=[::1]:0",
                        "--workers=2", "--transport=epoll", "--transport-opt=a=b", "--plugin-opt=fastport.admin_token=x",
                        "--idle-timeout=1.5", "--frame-timeout=0", "--max-sessions=10", "--max-packet=1024",
                        "--compress-threshold=100", "--send-queue-limit=65536", "--drain-timeout=2.25",
                        "--stats-interval=1", "--log-level=debug"],
        "server_help": ["--help"],
        "server_version": ["--version", "--plugin=x"],
        "server_unknown": ["--plugin=echo", "--bogus=1"],
        "server_queue_below_frame": ["--plugin=echo", "--max-packet=4096", "--send-queue-limit=100"],
        "server_opt_unloaded": ["--plugin=echo", "--plugin-opt=fastport.k=v"],
        "server_bad_listen": ["--plugin=echo", "--listen=host.example:80"],
        "server_duplicate_plugin": ["--plugin=echo,echo"],
        "server_no_value": ["--plugin"],
        "server_flag_value": ["--plugin=echo", "--help=1"],
        "server_positional": ["echo"],
        "server_empty": [],
    }
    for name, argv in lines.items():
        write("options", name, b"\x00" + b"\x00".join(a.encode() for a in argv))
    addresses = ["127.0.0.1:6628", "[::1]:6628", "[fe80::1%2]:1", "[fe80::1%lo]:2", "localhost:0", "LocalHost:1",
                 "*:1", ":5", "0.0.0.0:65535", "[::ffff:1.2.3.4]:9", "[1:2:3:4:5:6:7:8]:1", "[1::]:1",
                 "[::]:1", "[1:2:3:4:5:6:1.2.3.4]:3", "1.2.3.04:1", "256.1.1.1:1", "1.2.3.4:65536",
                 "::1:80", "[::1]80", "[1::2::3]:1", "1.2.3.4", "[]:1"]
    for i, a in enumerate(addresses):
        write("options", "address_%02d" % i, b"\x01" + a.encode())
    values = ["0", "123", "18446744073709551615", "18446744073709551616", "0x1F", "0X", "1.5", "2.125",
              "1.2345", ".5", "3-7", "7-3", "5", "-", "host:80", "[::1]:80", "[x]:65535", "a:b:1"]
    for i, v in enumerate(values):
        write("options", "value_%02d" % i, b"\x02" + v.encode())
    write("options", "refusal_with_newline", b"3\n")  # mode 0: a refusal quoting a newline


if __name__ == "__main__":
    framer_dispatch()
    split()
    inflate()
    fastport_proto()
    options()
