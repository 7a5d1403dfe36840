// Verify quire's repo export with the reference implementation (@atproto/repo) and print JSON.
//
// usage: node repo_verify.mjs <serverUrl> <did> <collection> <rkey>
//
// Fetches the DID document from the embedded directory (<serverUrl>/plc/<did>), takes its
// #atproto key, then: `verifyRepoCar` on sync.getRepo (commit signature, MST structure, every
// record), `readCarWithRoot` + `verifyCommitSig` on the same CAR, `verifyRecords` on the
// sync.getRecord proof, and the same getRepo CAR against a wrong key (which must fail).
// @atproto/repo 0.9.x and @atproto/common-web 0.4.x are CommonJS: import, then destructure.
import repo from '@atproto/repo'
import common from '@atproto/common-web'

const { verifyRepoCar, readCarWithRoot, verifyCommitSig, verifyRecords } = repo
const { getSigningDidKey } = common
const [server, did, collection, rkey] = process.argv.slice(2)
// A valid secp256k1 did:key that is not the repo's signing key.
const WRONG_KEY = 'did:key:zQ3shXEnSq5mPL8WD55ZGJbYFHQ5a4T1PARizTF6GwMymJLFd'

const fetchBytes = async (path) => {
  const res = await fetch(`${server}${path}`)
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
  return new Uint8Array(await res.arrayBuffer())
}

const out = {}
try {
  const doc = await (await fetch(`${server}/plc/${did}`)).json()
  const key = getSigningDidKey(doc)
  out.key = key
  const q = (params) => new URLSearchParams(params).toString()
  const car = await fetchBytes(`/xrpc/com.atproto.sync.getRepo?${q({ did })}`)

  const verified = await verifyRepoCar(car, did, key)
  out.repo = {
    rev: verified.commit.rev,
    records: verified.creates.length,
    paths: verified.creates.map((c) => `${c.collection}/${c.rkey}`),
  }

  const { root, blocks } = await readCarWithRoot(car)
  const commit = repo.def.commit.schema.parse(repo.cborToLex(blocks.get(root)))
  out.root = root.toString()
  out.commit = { did: commit.did, rev: commit.rev, version: commit.version }
  out.commitSig = await verifyCommitSig(commit, key)
  out.wrongKeySig = await verifyCommitSig(commit, WRONG_KEY)

  const proof = await fetchBytes(`/xrpc/com.atproto.sync.getRecord?${q({ did, collection, rkey })}`)
  const claims = await verifyRecords(proof, did, key)
  out.proof = claims.map((c) => ({ path: `${c.collection}/${c.rkey}`, record: c.record }))

  try {
    await verifyRepoCar(car, did, WRONG_KEY)
    out.wrongKeyRepo = 'accepted'
  } catch (err) {
    out.wrongKeyRepo = 'rejected'
  }
} catch (err) {
  out.error = String(err && err.stack ? err.stack : err)
}
process.stdout.write(JSON.stringify(out) + '\n')
