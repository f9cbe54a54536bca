import { useRef, useState, type FormEvent } from 'react'
import { ApiError } from '../api'
import { useRouter } from '../router'
import { useSession } from '../session'
import { toRequest, validate, validateName, type CreateForm, type Engine, type FieldErrors } from '../validation'

const fieldOrder: (keyof CreateForm)[] = ['name', 'engine', 'medusaImage', 'title', 'adminEmail']

/** serverErrors maps an API error onto the form's fields; the rest is for the whole form. */
export function serverErrors(e: ApiError): { fields: FieldErrors; form: string } {
  const fields: FieldErrors = {}
  const other: string[] = []
  for (const [field, msg] of Object.entries(e.fields)) {
    if ((fieldOrder as string[]).includes(field)) fields[field as keyof CreateForm] = msg
    else other.push(`${field} ${msg}`)
  }
  // A conflict is about the name: in use by another store or another tenant.
  if (e.problem === 'conflict' && !fields.name) fields.name = e.detail || e.title
  let form = other.join('; ')
  if (Object.keys(fields).length === 0 && !form) form = e.message
  return { fields, form }
}

export function CreateStore() {
  const { client } = useSession()
  const { navigate } = useRouter()
  const [form, setForm] = useState<CreateForm>({ name: '', engine: 'woocommerce', title: '', adminEmail: '', medusaImage: '' })
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const refs = useRef<Partial<Record<keyof CreateForm, HTMLElement | null>>>({})

  const set = (k: keyof CreateForm, v: string) => {
    setForm((f) => ({ ...f, [k]: v }))
    if (errors[k]) setErrors((e) => ({ ...e, [k]: undefined }))
  }
  const focusFirst = (errs: FieldErrors) => {
    const first = fieldOrder.find((k) => errs[k])
    if (first) refs.current[first]?.focus()
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setFormError('')
    const errs = validate(form)
    setErrors(errs)
    if (Object.keys(errs).length > 0) {
      focusFirst(errs)
      return
    }
    setBusy(true)
    try {
      const rec = await client.createStore(toRequest(form))
      navigate(`/stores/${encodeURIComponent(rec.name)}`)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      const { fields, form: msg } = serverErrors(err)
      setErrors(fields)
      setFormError(msg)
      focusFirst(fields)
    } finally {
      setBusy(false)
    }
  }

  const describedBy = (k: keyof CreateForm, help?: boolean) =>
    [help ? `${k}-help` : '', errors[k] ? `${k}-error` : ''].filter(Boolean).join(' ') || undefined
  const fieldError = (k: keyof CreateForm) =>
    errors[k] ? (
      <p id={`${k}-error`} className="error" data-field-error={k}>
        {labelOf(k)} {errors[k]}
      </p>
    ) : null
  // One labelled text input with its help and its error.
  const textField = (k: Exclude<keyof CreateForm, 'engine'>, o: TextFieldOptions = {}) => (
    <div className="field">
      <label htmlFor={k}>
        {labelOf(k)}
        {o.optional && <span className="muted"> (optional)</span>}
      </label>
      <input
        id={k}
        name={k}
        type={o.type ?? 'text'}
        ref={(el) => {
          refs.current[k] = el
        }}
        value={form[k]}
        placeholder={o.placeholder}
        autoComplete={o.autoComplete}
        spellCheck={o.verbatim ? false : undefined}
        autoCapitalize={o.verbatim ? 'none' : undefined}
        onChange={(e) => set(k, e.target.value)}
        onBlur={o.onBlur}
        aria-invalid={errors[k] ? true : undefined}
        aria-describedby={describedBy(k, o.help !== undefined)}
      />
      {o.help !== undefined && (
        <p id={`${k}-help`} className="help">
          {o.help}
        </p>
      )}
      {fieldError(k)}
    </div>
  )

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>New store</h1>
      </div>
      <form className="card create" onSubmit={submit} noValidate aria-label="New store">
        {formError && (
          <p className="error banner" role="alert">
            {formError}
          </p>
        )}
        {textField('name', {
          autoComplete: 'off',
          verbatim: true,
          onBlur: () => form.name && setErrors((er) => ({ ...er, name: validateName(form.name) || undefined })),
          help: "3 to 40 lowercase letters, digits and hyphens. It names the store's namespace and its default address.",
        })}
        <fieldset
          className="field engines"
          ref={(el) => {
            refs.current.engine = el
          }}
          aria-describedby={describedBy('engine')}
          tabIndex={-1}
        >
          <legend>{labelOf('engine')}</legend>
          {engines.map((e) => (
            <label className="choice" key={e.value}>
              <input
                type="radio"
                name="engine"
                value={e.value}
                checked={form.engine === e.value}
                onChange={() => set('engine', e.value)}
              />
              <span>
                <strong>{e.label}</strong>
                <span className="help">{e.help}</span>
              </span>
            </label>
          ))}
          {fieldError('engine')}
        </fieldset>
        {form.engine === 'medusa' &&
          textField('medusaImage', {
            placeholder: 'registry.example.com/shop/medusa:1.0.0',
            autoComplete: 'off',
            verbatim: true,
            help: "Medusa publishes no image: build your project's (see charts/store/README.md) and give its repository:tag.",
          })}
        {textField('title', { optional: true })}
        {textField('adminEmail', { optional: true, type: 'email', autoComplete: 'email' })}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create store'}
          </button>
          <button type="button" onClick={() => navigate('/')}>
            Cancel
          </button>
        </div>
      </form>
    </>
  )
}

interface TextFieldOptions {
  help?: string
  optional?: boolean
  type?: string
  placeholder?: string
  autoComplete?: string
  /** verbatim: no spell-check or auto-capitalisation (names, image references). */
  verbatim?: boolean
  onBlur?: () => void
}

const engines: { value: Engine; label: string; help: string }[] = [
  { value: 'woocommerce', label: 'WooCommerce', help: 'WordPress with WooCommerce and MariaDB.' },
  { value: 'medusa', label: 'Medusa', help: 'Medusa v2 with PostgreSQL and Redis, from your own image.' },
]

function labelOf(k: keyof CreateForm): string {
  return { name: 'Name', engine: 'Engine', title: 'Title', adminEmail: 'Admin email', medusaImage: 'Medusa image' }[k]
}
