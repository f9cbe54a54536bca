import { useEffect, useRef, useState, type FormEvent } from 'react'
import { ApiError, type Revision, type StoreRecord } from '../api'
import { useSession } from '../session'

/**
 * StoreHistory lists the revisions of the store's Helm release, newest
 * first, with what changed in each, and rolls back to one after the store's
 * name is typed. It reloads whenever the store's revision or phase changes.
 */
export function StoreHistory({ rec, disabled }: { rec: StoreRecord; disabled: boolean }) {
  const { client } = useSession()
  const [items, setItems] = useState<Revision[] | null>(null)
  const [error, setError] = useState('')
  const [target, setTarget] = useState(0)
  const [typed, setTyped] = useState('')
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)

  useEffect(() => {
    const ac = new AbortController()
    client
      .history(rec.name, ac.signal)
      .then((h) => setItems(h.items))
      .catch((e: unknown) => {
        if (e instanceof ApiError) setError(e.message)
      })
    return () => ac.abort()
  }, [client, rec.name, rec.revision, rec.phase])

  useEffect(() => {
    if (target) input.current?.focus()
  }, [target])

  const confirm = async (e: FormEvent) => {
    e.preventDefault()
    if (typed !== rec.name) return
    setBusy(true)
    setError('')
    try {
      await client.rollbackStore(rec.name, target)
      setTarget(0)
      setTyped('')
    } catch (err) {
      if (err instanceof ApiError) setError(err.message)
      else throw err
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card history" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p role="status">Loading the history…</p>}
      {items && items.length === 0 && <p className="muted">No release yet.</p>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Revision</th>
                <th scope="col">Status</th>
                <th scope="col">Size</th>
                <th scope="col">What changed</th>
                <th scope="col">Chart</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.revision} data-revision={r.revision}>
                  <td>{r.revision}</td>
                  <td>{r.status}</td>
                  <td>
                    {r.size}
                    {r.suspended ? ' (suspended)' : ''}
                  </td>
                  <td>{r.changes.length ? r.changes.join('; ') : r.description}</td>
                  <td>{r.chartVersion}</td>
                  <td>{r.updatedAt ? new Date(r.updatedAt).toLocaleString() : ''}</td>
                  <td>
                    {r.status !== 'deployed' && (
                      <button
                        type="button"
                        disabled={disabled || busy}
                        onClick={() => setTarget(r.revision)}
                        aria-label={`Roll back to revision ${r.revision}`}
                      >
                        Roll back
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {target > 0 && (
        <form className="confirm" onSubmit={confirm} aria-label="Confirm rollback">
          <p>
            Roll <strong>{rec.name}</strong> back to revision {target}: its chart and settings of then, as a new revision.
          </p>
          <div className="field">
            <label htmlFor="confirm-rollback">Type the store's name to confirm</label>
            <input
              id="confirm-rollback"
              ref={input}
              value={typed}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setTyped(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') setTarget(0)
              }}
            />
          </div>
          <div className="actions">
            <button type="submit" className="danger" disabled={typed !== rec.name || busy}>
              Confirm rollback to revision {target}
            </button>
            <button
              type="button"
              onClick={() => {
                setTarget(0)
                setTyped('')
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  )
}
