// Starts the module worker the way bundlers recognise (`new Worker(new URL(…, import.meta.url))`)
// and puts its result in `document.body.dataset.worker`.
const q = new URLSearchParams(location.search)
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
worker.onmessage = (e) => (document.body.dataset.worker = e.data)
worker.onerror = (e) => (document.body.dataset.worker = `error ${e.message}`)
worker.postMessage({ url: q.get('url'), key: q.get('key') })
