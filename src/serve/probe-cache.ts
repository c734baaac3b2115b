/**
 * A probe answered from a cache: the first call runs `fn`, calls within `ttlMs` of its end
 * (and calls while it runs) share its outcome, success or failure. Probes from a load
 * balancer, Kubernetes and a dashboard then cost the database one check per `ttlMs`, however
 * many arrive.
 */
export function cachedProbe<T>(ttlMs: number, fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined
  let settledAt = 0
  let settled = false
  return () => {
    if (promise && (!settled || performance.now() - settledAt < ttlMs)) return promise
    settled = false
    const current = fn()
    promise = current
    const settle = () => {
      if (promise !== current) return
      settled = true
      settledAt = performance.now()
    }
    current.then(settle, settle)
    return current
  }
}
