// A tiny static file server on 127.0.0.1 and a free port, for end-to-end pages.
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve } from 'node:path'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
}

export async function serveStatic(dirs, port = 0) {
  const roots = dirs.map((d) => resolve(d))
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    for (const root of roots) {
      const file = join(root, path.endsWith('/') ? path + 'index.html' : path)
      if (!file.startsWith(root)) break
      try {
        const body = await readFile(file)
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
        res.end(body)
        return
      } catch {}
    }
    res.writeHead(404).end('not found')
  })
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok))
  const { port: p } = server.address()
  return { url: `http://127.0.0.1:${p}`, close: () => new Promise((ok) => server.close(ok)) }
}
