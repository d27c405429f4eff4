#!/usr/bin/env python3
"""Seeds every fuzz target's corpus (fuzz/corpus/<target>/) with the 93 captured m-ld-js 0.10
payloads of crates/core/tests/data/wire/captures.json, plus the bytes inside each `{next: bin}`
notification (operation messages and snapshot datums as their decoders see them)."""
import hashlib
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
CAPTURES = HERE.parent / "crates/core/tests/data/wire/captures.json"
TARGETS = ["operation_message", "control", "notification", "snapshot_datum", "msgpack"]
NEXT = bytes([0x81, 0xA4]) + b"next"  # fixmap(1), fixstr(4) "next"


def next_payload(raw):
    """The bin inside a `{next: bin}` notification, or None."""
    if not raw.startswith(NEXT):
        return None
    rest = raw[len(NEXT):]
    sizes = {0xC4: 1, 0xC5: 2, 0xC6: 4}
    if not rest or rest[0] not in sizes:
        return None
    width = sizes[rest[0]]
    length = int.from_bytes(rest[1:1 + width], "big")
    return rest[1 + width:1 + width + length]


def main():
    payloads = json.loads(CAPTURES.read_text())["payloads"]
    seeds = []
    for p in payloads:
        raw = bytes.fromhex(p["hex"])
        seeds.append(raw)
        inner = next_payload(raw)
        if inner is not None:
            seeds.append(inner)
    for target in TARGETS:
        corpus = HERE / "corpus" / target
        corpus.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    print(f"{len(set(seeds))} seeds in each of {len(TARGETS)} corpora under {HERE / 'corpus'}")


if __name__ == "__main__":
    main()
