import { useRef, useState, type FormEvent } from 'react'
import { ApiError } from '../api'
import { useRouter } from '../router'
import { useSession } from '../session'
import { toRequest, validate, validateName, type CreateForm, type FieldErrors } from '../validation'

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
  const { client, signOut } = useSession()
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
      if (err.status === 401) {
        signOut('Your token is no longer valid. Sign in again.')
        return
      }
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
        <div className="field">
          <label htmlFor="name">Name</label>
          <input
            id="name"
            name="name"
            ref={(el) => {
              refs.current.name = el
            }}
            value={form.name}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="none"
            onChange={(e) => set('name', e.target.value)}
            onBlur={() => form.name && setErrors((er) => ({ ...er, name: validateName(form.name) || undefined }))}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy('name', true)}
          />
          <p id="name-help" className="help">
            3 to 40 lowercase letters, digits and hyphens. It names the store's namespace and its default address.
          </p>
          {fieldError('name')}
        </div>
        <fieldset
          className="field engines"
          ref={(el) => {
            refs.current.engine = el
          }}
          aria-describedby={describedBy('engine')}
          tabIndex={-1}
        >
          <legend>Engine</legend>
          <label className="choice">
            <input
              type="radio"
              name="engine"
              value="woocommerce"
              checked={form.engine === 'woocommerce'}
              onChange={() => set('engine', 'woocommerce')}
            />
            <span>
              <strong>WooCommerce</strong>
              <span className="help">WordPress with WooCommerce and MariaDB.</span>
            </span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name="engine"
              value="medusa"
              checked={form.engine === 'medusa'}
              onChange={() => set('engine', 'medusa')}
            />
            <span>
              <strong>Medusa</strong>
              <span className="help">Medusa v2 with PostgreSQL and Redis, from your own image.</span>
            </span>
          </label>
          {fieldError('engine')}
        </fieldset>
        {form.engine === 'medusa' && (
          <div className="field">
            <label htmlFor="medusaImage">Medusa image</label>
            <input
              id="medusaImage"
              name="medusaImage"
              ref={(el) => {
                refs.current.medusaImage = el
              }}
              value={form.medusaImage}
              placeholder="registry.example.com/shop/medusa:1.0.0"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('medusaImage', e.target.value)}
              aria-invalid={errors.medusaImage ? true : undefined}
              aria-describedby={describedBy('medusaImage', true)}
            />
            <p id="medusaImage-help" className="help">
              Medusa publishes no image: build your project's (see charts/store/README.md) and give its repository:tag.
            </p>
            {fieldError('medusaImage')}
          </div>
        )}
        <div className="field">
          <label htmlFor="title">
            Title <span className="muted">(optional)</span>
          </label>
          <input
            id="title"
            name="title"
            ref={(el) => {
              refs.current.title = el
            }}
            value={form.title}
            onChange={(e) => set('title', e.target.value)}
            aria-invalid={errors.title ? true : undefined}
            aria-describedby={describedBy('title')}
          />
          {fieldError('title')}
        </div>
        <div className="field">
          <label htmlFor="adminEmail">
            Admin email <span className="muted">(optional)</span>
          </label>
          <input
            id="adminEmail"
            name="adminEmail"
            type="email"
            ref={(el) => {
              refs.current.adminEmail = el
            }}
            value={form.adminEmail}
            autoComplete="email"
            onChange={(e) => set('adminEmail', e.target.value)}
            aria-invalid={errors.adminEmail ? true : undefined}
            aria-describedby={describedBy('adminEmail')}
          />
          {fieldError('adminEmail')}
        </div>
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

function labelOf(k: keyof CreateForm): string {
  return { name: 'Name', engine: 'Engine', title: 'Title', adminEmail: 'Admin email', medusaImage: 'Medusa image' }[k]
}
