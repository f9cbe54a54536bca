import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react'
import { ApiError, type Me, type Size } from '../api'
import { useRouter } from '../router'
import { useSession } from '../session'
import { describeSize, sizeSummary, useSizes } from '../sizes'
import { toRequest, validate, validateHost, validateName, type CreateForm, type Engine, type FieldErrors } from '../validation'
import { ScrollArea } from './ScrollArea'

const fieldOrder: (keyof CreateForm)[] = ['name', 'engine', 'medusaImage', 'size', 'host', 'title', 'adminEmail']

/** quotaText says how many stores the tenant has of how many it may have: "3 of 5 stores". */
export function quotaText(me: Pick<Me, 'storeCount' | 'storeLimit'>): string {
  if (me.storeLimit === undefined || me.storeCount === undefined) return ''
  return `${me.storeCount} of ${me.storeLimit} ${me.storeLimit === 1 ? 'store' : 'stores'}`
}

/** atLimit says whether the tenant may create no more stores. */
export function atLimit(me: Pick<Me, 'storeCount' | 'storeLimit'>): boolean {
  return me.storeLimit !== undefined && me.storeCount !== undefined && me.storeCount >= me.storeLimit
}

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
  const { client, me } = useSession()
  const { navigate } = useRouter()
  const { sizes, error: sizesError } = useSizes(client)
  // The count of stores changes after sign-in: read it again for this page.
  const [usage, setUsage] = useState<Pick<Me, 'storeCount' | 'storeLimit'>>(me)
  const [form, setForm] = useState<CreateForm>({
    name: '',
    engine: 'woocommerce',
    title: '',
    adminEmail: '',
    medusaImage: '',
    size: '',
    host: '',
  })
  const [errors, setErrors] = useState<FieldErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const refs = useRef<Partial<Record<keyof CreateForm, HTMLElement | null>>>({})
  const sizeNames = sizes?.items.map((z) => z.name) ?? []
  const full = atLimit(usage)

  const refreshUsage = useCallback(
    (signal?: AbortSignal) =>
      client.me(signal).then(
        (m) => setUsage(m),
        () => {}, // the session's numbers stay; a 401 has signed out
      ),
    [client],
  )
  useEffect(() => {
    const ac = new AbortController()
    void refreshUsage(ac.signal)
    return () => ac.abort()
  }, [refreshUsage])
  // The API's default size, once the sizes are known.
  useEffect(() => {
    if (sizes) setForm((f) => (f.size === '' ? { ...f, size: sizes.default } : f))
  }, [sizes])

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
    const errs = validate(form, sizeNames)
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
      if (err.problem === 'store-limit-reached') void refreshUsage()
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
  const textField = (k: Exclude<keyof CreateForm, 'engine' | 'size'>, o: TextFieldOptions = {}) => (
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
        {quotaText(usage) && (
          <p id="quota" className={full ? 'notice warn' : 'muted'} data-testid="quota">
            {full ? (
              <>
                Tenant <strong>{me.tenant}</strong> has {quotaText(usage)}, the most it may have. Delete a store before
                creating another.
              </>
            ) : (
              <>
                Tenant <strong>{me.tenant}</strong> has {quotaText(usage)}.
              </>
            )}
          </p>
        )}
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
        <div className="field">
          <label htmlFor="size">{labelOf('size')}</label>
          <select
            id="size"
            name="size"
            ref={(el) => {
              refs.current.size = el
            }}
            value={form.size}
            disabled={!sizes}
            onChange={(e) => set('size', e.target.value)}
            aria-invalid={errors.size ? true : undefined}
            aria-describedby={describedBy('size', true)}
          >
            {!sizes && <option value="">{sizesError ? 'the default size' : 'Loading the sizes…'}</option>}
            {sizes?.items.map((z) => (
              <option key={z.name} value={z.name}>
                {z.name}
                {z.name === sizes.default ? ' (default)' : ''}
              </option>
            ))}
          </select>
          <p id="size-help" className="help">
            {sizes && form.size
              ? sizeSummary(describeSize(sizes.items.find((z) => z.name === form.size) ?? sizes.items[0], form.engine))
              : sizesError || 'What the store may use: its namespace quota, replicas and volumes.'}
          </p>
          {fieldError('size')}
          {sizes && <SizeTable sizes={sizes.items} engine={form.engine} chosen={form.size} />}
        </div>
        {textField('host', {
          optional: true,
          autoComplete: 'off',
          verbatim: true,
          placeholder: form.name ? `${form.name}.<store domain>` : undefined,
          onBlur: () => form.host && setErrors((er) => ({ ...er, host: validateHost(form.host) || undefined })),
          help: "The store's address. Empty: its name under the platform's store domain. A tenant's host must be under that domain too.",
        })}
        {textField('title', { optional: true })}
        {textField('adminEmail', { optional: true, type: 'email', autoComplete: 'email' })}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || full} aria-describedby={full ? 'quota' : undefined}>
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
  return {
    name: 'Name',
    engine: 'Engine',
    title: 'Title',
    adminEmail: 'Admin email',
    medusaImage: 'Medusa image',
    size: 'Size',
    host: 'Host',
  }[k]
}

/** SizeTable shows what each size gives a store of the chosen engine. */
function SizeTable({ sizes, engine, chosen }: { sizes: Size[]; engine: string; chosen: string }) {
  return (
    <ScrollArea className="sizes" label="Sizes">
      <table>
        <caption>What each size gives a {engine === 'medusa' ? 'Medusa' : 'WooCommerce'} store</caption>
        <thead>
          <tr>
            <th scope="col">Size</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">Volumes</th>
            <th scope="col">Replicas</th>
          </tr>
        </thead>
        <tbody>
          {sizes.map((z) => {
            const f = describeSize(z, engine)
            return (
              <tr key={z.name} data-size={z.name} aria-current={z.name === chosen ? 'true' : undefined}>
                <th scope="row">{f.name}</th>
                <td>{f.cpu}</td>
                <td>{f.memory}</td>
                <td>{f.volumes}</td>
                <td>{f.replicas}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </ScrollArea>
  )
}
