// The store sizes of GET /api/sizes, described for a person choosing one:
// what the store's namespace may use (its ResourceQuota), and the replicas
// and volumes each workload of the chosen engine gets.
import { useEffect, useState } from 'react'
import { ApiError, type ApiClient, type Size, type Sizes } from './api'

/** SizeFacts is one size as the create form's table shows it. */
export interface SizeFacts {
  name: string
  /** cpu and memory are the namespace's requests, with its limits: "2 (limit 6)". */
  cpu: string
  memory: string
  /** volumes are the engine's volumes at creation: "wordpress 2Gi, mariadb 2Gi". */
  volumes: string
  /** replicas are the engine's workloads: "wordpress 1, mariadb 1". */
  replicas: string
}

const none = '—'

function requestAndLimit(quota: Size['quota'], resource: string): string {
  const req = quota[`requests.${resource}`] ?? quota[resource]
  const lim = quota[`limits.${resource}`]
  if (req === undefined && lim === undefined) return none
  if (lim === undefined) return String(req)
  if (req === undefined) return `limit ${lim}`
  return `${req} (limit ${lim})`
}

/** describeSize lists what size gives a store of engine ('' reads as WooCommerce, the form's default). */
export function describeSize(size: Size, engine: string): SizeFacts {
  const workloads = size.workloads?.[engine || 'woocommerce'] ?? {}
  const names = Object.keys(workloads)
  const volumes = names.filter((w) => size.volumes?.[w] !== undefined).map((w) => `${w} ${size.volumes[w]}`)
  const replicas = names.map((w) => `${w} ${workloads[w].replicas}`)
  return {
    name: size.name,
    cpu: requestAndLimit(size.quota ?? {}, 'cpu'),
    memory: requestAndLimit(size.quota ?? {}, 'memory'),
    volumes: volumes.join(', ') || none,
    replicas: replicas.join(', ') || none,
  }
}

/** sizeSummary is one line about a size, for its option and the select's description. */
export function sizeSummary(f: SizeFacts): string {
  return `${f.name}: CPU ${f.cpu}, memory ${f.memory}; volumes ${f.volumes}; replicas ${f.replicas}`
}

/** useSizes loads GET /api/sizes once; error is the message when that fails. */
export function useSizes(client: ApiClient): { sizes: Sizes | null; error: string } {
  const [sizes, setSizes] = useState<Sizes | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    const ac = new AbortController()
    client.sizes(ac.signal).then(setSizes, (e: unknown) => {
      if (e instanceof ApiError) setError(`The sizes could not be loaded: ${e.message}`)
    })
    return () => ac.abort()
  }, [client])
  return { sizes, error }
}
