import { useCallback, useEffect, useState } from 'react'
import { ApiError, type KubeEvent, type Phase } from '../api'
import { age } from '../format'
import { useSession } from '../session'
import { ScrollArea } from './ScrollArea'

/** sortEvents orders events as the API does: warnings first, then the newest first. */
export function sortEvents(items: KubeEvent[]): KubeEvent[] {
  const warning = (e: KubeEvent) => (e.type === 'Warning' ? 0 : 1)
  return items.slice().sort((a, b) => warning(a) - warning(b) || Date.parse(b.lastSeen) - Date.parse(a.lastSeen))
}

// Phases in which the namespace changes by itself: its events are read
// again every refreshMs.
const moving: Phase[] = ['requested', 'provisioning', 'updating', 'degraded', 'failed', 'deleting', 'deletion_stuck']
const refreshMs = 10000
/** shownFirst is how many events are listed before "Show all". */
export const shownFirst = 8

/**
 * KubeEvents lists the Kubernetes events of the store's namespace
 * (GET /api/stores/{name}/kubernetes-events): why a pod is pending, an
 * image that does not pull, a probe that fails. Warnings come first.
 */
export function KubeEvents({ name, namespace, phase }: { name: string; namespace: string; phase: Phase }) {
  const { client } = useSession()
  const [items, setItems] = useState<KubeEvent[] | null>(null)
  const [error, setError] = useState('')
  const [now, setNow] = useState(() => Date.now())
  const [all, setAll] = useState(false)

  const load = useCallback(
    (signal?: AbortSignal) =>
      client.kubernetesEvents(name, signal).then(
        (r) => {
          setItems(sortEvents(r.items ?? []))
          setError('')
          setNow(Date.now())
        },
        (e: unknown) => {
          if (e instanceof ApiError) setError(e.message)
        },
      ),
    [client, name],
  )

  useEffect(() => {
    const ac = new AbortController()
    void load(ac.signal)
    if (!moving.includes(phase)) return () => ac.abort()
    const t = setInterval(() => void load(ac.signal), refreshMs)
    return () => {
      clearInterval(t)
      ac.abort()
    }
  }, [load, phase])

  const warnings = items?.filter((e) => e.type === 'Warning').length ?? 0
  const shown = items && !all ? items.slice(0, shownFirst) : items
  return (
    <section className="card events" aria-labelledby="events-title">
      <div className="section-head">
        <h2 id="events-title">Kubernetes events</h2>
        {items && (
          <span className={warnings ? 'badge event-warning' : 'badge event-normal'} data-testid="warning-count">
            {warnings === 1 ? '1 warning' : `${warnings} warnings`}
          </span>
        )}
        <button type="button" className="small" onClick={() => void load()}>
          Refresh events
        </button>
      </div>
      <p className="help">
        What Kubernetes reports in the namespace <code>{namespace}</code>: a pod that cannot be scheduled, an image that
        does not pull, a failing probe. Kubernetes keeps events for about an hour.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p role="status">Loading the events…</p>}
      {items?.length === 0 && <p className="muted">No events in this namespace.</p>}
      {items && items.length > 0 && (
        <ScrollArea label="Table of the events">
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Reason</th>
                <th scope="col">Object</th>
                <th scope="col">Message</th>
                <th scope="col">Count</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {shown?.map((e, i) => (
                <tr key={`${i}-${e.object}-${e.reason}`} data-event-type={e.type}>
                  <td>
                    <span className={e.type === 'Warning' ? 'badge event-warning' : 'badge event-normal'}>{e.type}</span>
                  </td>
                  <td>{e.reason}</td>
                  <td>
                    <code>{e.object}</code>
                  </td>
                  <td className="event-message">{e.message}</td>
                  <td>{e.count}</td>
                  <td>
                    <time dateTime={e.lastSeen} title={new Date(e.lastSeen).toLocaleString()}>
                      {age(e.lastSeen, now)} ago
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      )}
      {items && items.length > shownFirst && (
        <button type="button" className="small more" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? `Show the first ${shownFirst} events` : `Show all ${items.length} events`}
        </button>
      )}
    </section>
  )
}
