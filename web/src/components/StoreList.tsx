import { useEffect, useRef, useState } from 'react'
import { ApiError, phases, type StoreList as Page, type StoreRecord } from '../api'
import { age, engineLabel, phaseLabel } from '../format'
import { applyChange, isOlder, type ListFilter } from '../liveList'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { PhaseBadge } from './PhaseBadge'

const pageSize = 20

export function StoreList() {
  const { client } = useSession()
  const { search, navigate } = useRouter()
  const status = search.get('status') ?? ''
  const engine = search.get('engine') ?? ''
  const cursor = search.get('cursor') ?? ''
  const [page, setPage] = useState<Page | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [live, setLive] = useState(false)
  const [announce, setAnnounce] = useState('')
  const [now, setNow] = useState(() => Date.now())
  const [prev, setPrev] = useState<string[]>([])
  const filter = useRef<ListFilter>({ status, engine, firstPage: !cursor, limit: pageSize })
  filter.current = { status, engine, firstPage: !cursor, limit: pageSize }
  // The latest state of every store the event stream has sent: events that
  // arrive while a page loads are applied to it once it is there.
  const latest = useRef(new Map<string, StoreRecord>())

  useEffect(() => {
    const ac = new AbortController()
    setError(null)
    client
      .listStores({ status, engine, cursor, limit: pageSize }, ac.signal)
      .then((p) => setPage([...latest.current.values()].reduce((pg, r) => applyChange(pg, r, filter.current), p)))
      .catch((e: unknown) => {
        if (e instanceof ApiError) setError(e)
      })
    return () => ac.abort()
  }, [client, status, engine, cursor])

  useEffect(() => {
    const ac = new AbortController()
    void client.events(undefined, {
      signal: ac.signal,
      onState: setLive,
      onEvent: (ev) => {
        if (ev.type !== 'store') return
        const rec = JSON.parse(ev.data) as StoreRecord
        const known = latest.current.get(rec.name)
        if (!known || !isOlder(rec, known)) latest.current.set(rec.name, rec)
        setPage((p) => {
          if (!p) return p
          const before = p.items.find((r) => r.name === rec.name)
          if (before && before.phase !== rec.phase) setAnnounce(`${rec.name} is now ${phaseLabel(rec.phase)}`)
          return applyChange(p, rec, filter.current)
        })
      },
    })
    return () => ac.abort()
  }, [client])

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15000)
    return () => clearInterval(t)
  }, [])

  const setQuery = (changes: Record<string, string>) => {
    const q = new URLSearchParams(search)
    for (const [k, v] of Object.entries(changes)) {
      if (v) q.set(k, v)
      else q.delete(k)
    }
    const qs = q.toString()
    navigate('/' + (qs ? '?' + qs : ''), { replace: true })
  }
  const setFilter = (changes: Record<string, string>) => {
    setPrev([])
    setQuery({ ...changes, cursor: '' })
  }
  const filtered = status !== '' || engine !== ''

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Stores</h1>
        <span className={`live ${live ? 'on' : 'off'}`} title="Updates arrive from the API's event stream">
          {live ? 'Live' : 'Connecting…'}
        </span>
        <Link to="/new" className="button primary">
          New store
        </Link>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {announce}
      </p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter stores">
        <div className="field inline">
          <label htmlFor="filter-status">Phase</label>
          <select id="filter-status" value={status} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">All but deleted</option>
            {phases.map((p) => (
              <option key={p} value={p}>
                {phaseLabel(p)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="filter-engine">Engine</label>
          <select id="filter-engine" value={engine} onChange={(e) => setFilter({ engine: e.target.value })}>
            <option value="">All engines</option>
            <option value="woocommerce">WooCommerce</option>
            <option value="medusa">Medusa</option>
          </select>
        </div>
      </form>
      {error && (
        <p className="error banner" role="alert">
          {error.message}
        </p>
      )}
      {!page && !error && <p role="status">Loading stores…</p>}
      {page && page.items.length === 0 && !cursor && (
        <div className="empty card">
          {filtered ? (
            <>
              <h2>No stores match these filters</h2>
              <button type="button" onClick={() => setFilter({ status: '', engine: '' })}>
                Clear the filters
              </button>
            </>
          ) : (
            <>
              <h2>No stores yet</h2>
              <p>Create a WooCommerce or Medusa store; it is ready in a few minutes.</p>
              <Link to="/new" className="button primary">
                Create your first store
              </Link>
            </>
          )}
        </div>
      )}
      {page && page.items.length > 0 && (
        <table className="stores">
          <caption className="visually-hidden">Your stores, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Engine</th>
              <th scope="col">Phase</th>
              <th scope="col">Age</th>
              <th scope="col">URL</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((r) => (
              <tr key={r.name} data-store={r.name}>
                <th scope="row" data-label="Name">
                  <Link to={`/stores/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                </th>
                <td data-label="Engine">{engineLabel(r.engine)}</td>
                <td data-label="Phase">
                  <PhaseBadge phase={r.phase} />
                </td>
                <td data-label="Age">
                  <time dateTime={r.createdAt} title={new Date(r.createdAt).toLocaleString()}>
                    {age(r.createdAt, now)}
                  </time>
                </td>
                <td data-label="URL">
                  {r.url ? (
                    <a href={r.url} target="_blank" rel="noreferrer">
                      {r.url.replace(/^https?:\/\//, '')}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && (cursor || page.nextCursor) && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            disabled={!cursor}
            onClick={() => {
              const p = prev.slice()
              const back = p.pop() ?? ''
              setPrev(p)
              setQuery({ cursor: back })
            }}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!page.nextCursor}
            onClick={() => {
              setPrev([...prev, cursor])
              setQuery({ cursor: page.nextCursor ?? '' })
            }}
          >
            Next page
          </button>
        </nav>
      )}
    </>
  )
}
