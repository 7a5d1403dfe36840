// Resolve a DID with the reference TypeScript resolver (@atproto/identity) and print JSON.
//
// usage: node identity_resolve.mjs <plcUrl> <did> [<messageHex> <signatureHex>]
//
// Prints {"doc", "data", "key", "verified"} for a resolvable DID, {"doc": null} when the
// directory positively says it does not exist, {"error", "status"} when resolution throws.
// @atproto/identity 0.4.x is CommonJS: import the namespace, then destructure.
import identity from '@atproto/identity'

const { IdResolver } = identity
const [plcUrl, did, messageHex, signatureHex] = process.argv.slice(2)
const resolver = new IdResolver({ plcUrl, timeout: 5000 })

const out = {}
try {
  out.doc = await resolver.did.resolve(did, true)
  if (out.doc !== null) {
    out.data = await resolver.did.resolveAtprotoData(did)
    out.key = await resolver.did.resolveAtprotoKey(did)
    if (messageHex && signatureHex) {
      out.verified = await resolver.did.verifySignature(
        did,
        Buffer.from(messageHex, 'hex'),
        Buffer.from(signatureHex, 'hex'),
      )
    }
  }
} catch (err) {
  out.error = String(err && err.message)
  out.status = err && err.status ? err.status : null
}
process.stdout.write(JSON.stringify(out) + '\n')
