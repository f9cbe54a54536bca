import { useRef, useState, type FormEvent } from 'react'
import { ApiError, type StoreRecord } from '../api'
import { useSession } from '../session'
import { useSizes } from '../sizes'
import { changeRequest, validateChange, type ChangeErrors, type ChangeForm } from '../validation'

const fieldOrder: (keyof ChangeForm)[] = ['title', 'adminEmail', 'size', 'medusaImage', 'host']

const labels: Record<keyof ChangeForm, string> = {
  title: 'Title',
  adminEmail: 'Admin email',
  size: 'Size',
  medusaImage: 'Medusa image',
  host: 'Host',
}

/** formOf is the settings form filled with the store's spec. */
export function formOf(rec: StoreRecord): ChangeForm {
  return {
    title: rec.title ?? '',
    adminEmail: rec.adminEmail ?? '',
    size: rec.size || 'small',
    medusaImage: rec.medusaImage ?? '',
    host: rec.host,
  }
}

/**
 * StoreSettings changes a store: the fields that differ go to PATCH
 * /api/stores/{name}, which runs a Helm upgrade (rolled back by itself when
 * it does not become ready). The same rules and messages as the API.
 */
export function StoreSettings({ rec, disabled }: { rec: StoreRecord; disabled: boolean }) {
  const { client } = useSession()
  const { sizes } = useSizes(client)
  const sizeNames = sizes?.items.map((z) => z.name) ?? []
  const current = formOf(rec)
  const [form, setForm] = useState<ChangeForm>(current)
  const [errors, setErrors] = useState<ChangeErrors>({})
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const refs = useRef<Partial<Record<keyof ChangeForm, HTMLElement | null>>>({})
  const fields = fieldOrder.filter((k) => k !== 'medusaImage' || rec.engine === 'medusa')

  const set = (k: keyof ChangeForm, v: string) => {
    setForm((f) => ({ ...f, [k]: v }))
    if (errors[k]) setErrors((e) => ({ ...e, [k]: undefined }))
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setNote('')
    const errs = validateChange(form, rec.engine, sizeNames)
    setErrors(errs)
    const first = fieldOrder.find((k) => errs[k])
    if (first) {
      refs.current[first]?.focus()
      return
    }
    const body = changeRequest(form, current)
    if (Object.keys(body).length === 0) {
      setNote('Nothing to change.')
      return
    }
    setBusy(true)
    try {
      const res = await client.changeStore(rec.name, body)
      setNote('operation' in res ? 'Change started: the store is upgraded, then checked.' : 'Nothing to change.')
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      const fe: ChangeErrors = {}
      for (const [f, msg] of Object.entries(err.fields)) {
        if ((fieldOrder as string[]).includes(f)) fe[f as keyof ChangeForm] = msg
      }
      setErrors(fe)
      if (Object.keys(fe).length === 0) setNote(err.message)
      const bad = fieldOrder.find((k) => fe[k])
      if (bad) refs.current[bad]?.focus()
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card settings" onSubmit={submit} noValidate aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      {fields.map((k) => {
        const id = `settings-${k}`
        const err = errors[k]
        const common = {
          id,
          name: k,
          ref: (el: HTMLElement | null) => {
            refs.current[k] = el
          },
          value: form[k],
          disabled: disabled || busy,
          'aria-invalid': err ? true : undefined,
          'aria-describedby': err ? `${id}-error` : undefined,
        }
        return (
          <div className="field" key={k}>
            <label htmlFor={id}>{labels[k]}</label>
            {k === 'size' ? (
              <select {...common} onChange={(e) => set(k, e.target.value)}>
                {(sizeNames.length ? sizeNames : [current.size]).map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            ) : (
              <input
                {...common}
                type={k === 'adminEmail' ? 'email' : 'text'}
                autoComplete="off"
                spellCheck={k === 'title' ? undefined : false}
                onChange={(e) => set(k, e.target.value)}
              />
            )}
            {k === 'size' && (
              <p className="help">A smaller size never shrinks the store's volumes.</p>
            )}
            {err && (
              <p id={`${id}-error`} className="error" data-field-error={k}>
                {labels[k]} {err}
              </p>
            )}
          </div>
        )
      })}
      <div className="actions">
        <button type="submit" className="primary" disabled={disabled || busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
      </div>
      {note && (
        <p className="notice" role="status">
          {note}
        </p>
      )}
    </form>
  )
}
