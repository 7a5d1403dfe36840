// Consume a quire firehose with the reference consumer (@atproto/sync) and print JSON.
//
// usage: node firehose_consume.mjs <serviceUrl> <plcUrl> <lastSeq> <timeoutMs>
//
// Reads from cursor 0 until the runner's cursor reaches <lastSeq> (or the timeout), with
// commit authentication on: every #commit's signature and op proofs are verified against
// the DID document's key, and every message is validated against the lexicon. Handles are
// not re-resolved (.test names have no DNS). Prints {"cursor", "events", "errors"}.
//
// @atproto/sync 0.1.40 passes its `getCursor` option to the subscription uncalled, so the
// start cursor is given through a MemoryRunner instead.
import identity from '@atproto/identity'
import sync from '@atproto/sync'

const { IdResolver } = identity
const { Firehose, MemoryRunner } = sync
const [serviceUrl, plcUrl, lastSeqText, timeoutText] = process.argv.slice(2)
const lastSeq = Number(lastSeqText)
const events = []
const errors = []
let finished = false
let firehose

const finish = async (cursor) => {
  if (finished) return
  finished = true
  await firehose.destroy()
  process.stdout.write(JSON.stringify({ cursor, events, errors }) + '\n')
  process.exit(0)
}

const runner = new MemoryRunner({
  startCursor: 0,
  setCursor: async (cursor) => {
    if (cursor >= lastSeq) await finish(cursor)
  },
})

firehose = new Firehose({
  idResolver: new IdResolver({ plcUrl, timeout: 5000 }),
  service: serviceUrl.replace(/^http/, 'ws'),
  runner,
  unauthenticatedHandles: true,
  subscriptionReconnectDelay: 200,
  handleEvent: async (evt) => {
    events.push({
      event: evt.event,
      seq: evt.seq,
      did: evt.did,
      collection: evt.collection ?? null,
      rkey: evt.rkey ?? null,
    })
  },
  onError: (err) => {
    const cause = err.err ?? err.cause
    errors.push(`${err.name}: ${err.message} ${cause ? String(cause) : ''}`.trim())
  },
})

setTimeout(() => finish(runner.getCursor() ?? null), Number(timeoutText))
firehose.start()
