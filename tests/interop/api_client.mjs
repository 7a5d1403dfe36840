// Drive quire with the reference TypeScript client (@atproto/api AtpAgent) and print JSON.
//
// usage: node api_client.mjs <serviceUrl> <handle> <password>
//
// Creates the account, logs in again with a fresh agent (so login itself is exercised),
// writes a post and a custom record, reads them back and lists them. The client validates
// every response against its own copy of the lexicons, so a malformed answer fails here.
// Then the account endpoints: app passwords, preferences, a service token, resolveIdentity.
// Prints {"did", "handle", "posted", "got", "listed", "session", ...} or {"error", "status"}.
// @atproto/api 0.19.x is CommonJS: import the namespace, then destructure.
import api from '@atproto/api'

const { AtpAgent } = api
const [service, handle, password] = process.argv.slice(2)
const NOTE = 'com.example.note'

const out = {}
try {
  const creator = new AtpAgent({ service })
  const created = await creator.createAccount({ handle, password, email: `${handle}@example.com` })
  out.did = created.data.did
  out.handle = created.data.handle

  const agent = new AtpAgent({ service })
  await agent.login({ identifier: handle, password })
  out.session = { did: agent.session.did, handle: agent.session.handle }

  const posted = await agent.post({ text: 'hello from @atproto/api' })
  const rkey = posted.uri.split('/').pop()
  const got = await agent.com.atproto.repo.getRecord({
    repo: agent.session.did,
    collection: 'app.bsky.feed.post',
    rkey,
  })
  out.posted = { uri: posted.uri, cid: posted.cid }
  out.got = { uri: got.data.uri, cid: got.data.cid, text: got.data.value.text }

  const rkeys = []
  for (const n of [1, 2, 3]) {
    const res = await agent.com.atproto.repo.createRecord({
      repo: agent.session.did,
      collection: NOTE,
      record: { $type: NOTE, n },
    })
    rkeys.push(res.data.uri.split('/').pop())
  }
  const listed = await agent.com.atproto.repo.listRecords({
    repo: agent.session.did,
    collection: NOTE,
  })
  out.created = rkeys
  out.listed = listed.data.records.map((r) => ({ rkey: r.uri.split('/').pop(), n: r.value.n }))

  // account lifecycle endpoints, each answer validated by the client's lexicons
  const appPassword = await agent.com.atproto.server.createAppPassword({ name: 'npm' })
  const appAgent = new AtpAgent({ service })
  await appAgent.login({ identifier: handle, password: appPassword.data.password })
  const passwords = await agent.com.atproto.server.listAppPasswords()
  out.appPasswords = passwords.data.passwords.map((p) => p.name)
  out.appSession = appAgent.session.did
  await agent.app.bsky.actor.putPreferences({
    preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }],
  })
  const prefs = await agent.app.bsky.actor.getPreferences()
  out.preferences = prefs.data.preferences.map((p) => p.$type)
  const serviceAuth = await agent.com.atproto.server.getServiceAuth({
    aud: 'did:web:video.bsky.app',
    lxm: 'com.atproto.repo.uploadBlob',
  })
  out.serviceTokenSegments = serviceAuth.data.token.split('.').length
  const identity = await agent.com.atproto.identity.resolveIdentity({ identifier: handle })
  out.identity = { did: identity.data.did, handle: identity.data.handle }
  const emailUpdate = await agent.com.atproto.server.requestEmailUpdate()
  out.tokenRequired = emailUpdate.data.tokenRequired
} catch (err) {
  out.error = String(err && err.message)
  out.status = err && err.status ? err.status : null
}
process.stdout.write(JSON.stringify(out) + '\n')
