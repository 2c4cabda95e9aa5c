// What a page holds, through CDP: event listeners on window and document, and the live
// (reachable after a garbage collection) objects of the browser classes a client may own.
export async function census(page) {
  const cdp = await page.context().newCDPSession(page)
  try {
    const listeners = async (expr) => {
      const { result } = await cdp.send('Runtime.evaluate', { expression: expr })
      const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId })
      return listeners.map((l) => l.type).sort()
    }
    // queryObjects collects garbage first, so only objects something still references count.
    const live = async (cls) => {
      const { result: proto } = await cdp.send('Runtime.evaluate', { expression: `${cls}.prototype` })
      const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.objectId })
      const { result } = await cdp.send('Runtime.callFunctionOn', {
        objectId: objects.objectId,
        functionDeclaration: 'function () { return this.length }',
        returnByValue: true,
      })
      return result.value
    }
    return {
      window: await listeners('window'),
      document: await listeners('document'),
      WebSocket: await live('WebSocket'),
      Worker: await live('Worker'),
      BroadcastChannel: await live('BroadcastChannel'),
      workers: page.workers().length,
    }
  } finally {
    await cdp.detach()
  }
}
