import { useEffect, useState } from 'react'
import { ApiError, type Revision, type StoreRecord } from '../api'
import { useSession } from '../session'
import { ConfirmByName } from './ConfirmByName'
import { ScrollArea } from './ScrollArea'

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
  const [busy, setBusy] = useState(false)

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

  const confirm = async () => {
    setBusy(true)
    setError('')
    try {
      await client.rollbackStore(rec.name, target)
      setTarget(0)
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
        <ScrollArea label="Revisions">
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
        </ScrollArea>
      )}
      {target > 0 && (
        <ConfirmByName
          name={rec.name}
          label="Confirm rollback"
          inputId="confirm-rollback"
          confirmText={`Confirm rollback to revision ${target}`}
          busy={busy}
          onConfirm={() => void confirm()}
          onCancel={() => setTarget(0)}
        >
          Roll <strong>{rec.name}</strong> back to revision {target}: its chart and settings of then, as a new revision.
        </ConfirmByName>
      )}
    </section>
  )
}
