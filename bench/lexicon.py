"""Lexicon validation cost per record, for a minimal and a typical (reply, facet, embed) post.

Run: `.venv/bin/python -m bench.lexicon`
"""

from __future__ import annotations

from adapters.lexicon_files import default_catalog
from bench._timing import rate, report
from domain.data.atjson import from_json
from domain.lexicon import validate_params, validate_record

URI = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2x"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
MINIMAL = {
    "$type": "app.bsky.feed.post",
    "text": "Measuring how fast quire validates a realistic post.",
    "createdAt": "2024-05-01T12:34:56.789Z",
}
TYPICAL = {
    **MINIMAL,
    "text": "A reply with a #tag and an image 🙂",
    "langs": ["en"],
    "facets": [
        {
            "index": {"byteStart": 15, "byteEnd": 19},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "tag"}],
        }
    ],
    "reply": {"root": {"uri": URI, "cid": CID}, "parent": {"uri": URI, "cid": CID}},
    "embed": {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "alt": "",
                "image": {
                    "$type": "blob",
                    "ref": {"$link": CID},
                    "mimeType": "image/png",
                    "size": 9,
                },
            }
        ],
    },
}


def main() -> None:
    catalog = default_catalog()
    for name, raw in (("minimal post", MINIMAL), ("typical post", TYPICAL)):
        post = from_json(raw)

        def run(post: object = post) -> object:
            return validate_record(catalog, "app.bsky.feed.post", post)

        per_second = rate(run)
        report(f"validate {name}", 1e6 / per_second, "µs")
    params = {"repo": "alice.test", "collection": "app.bsky.feed.post", "limit": "10"}
    per_second = rate(lambda: validate_params(catalog, "com.atproto.repo.listRecords", params))
    report("validate listRecords params", 1e6 / per_second, "µs")


if __name__ == "__main__":
    main()
