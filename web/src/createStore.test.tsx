import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, type Me } from './api'
import { CreateStore, serverErrors } from './components/CreateStore'
import { Router } from './router'
import { SessionContext } from './session'
import { describeSize } from './sizes'
import { json, problem, sizes } from './testing'
import { MsgHost, MsgNameFormat, MsgNameReserved } from './validation'

afterEach(() => {
  cleanup()
  window.history.replaceState(null, '', '/')
})

interface Fake {
  /** usage is what GET /api/me says of the tenant's stores. */
  usage?: Pick<Me, 'storeCount' | 'storeLimit'>
  /** create answers POST /api/stores. */
  create?: () => Response
}

/** renderForm renders the form against a fake API; posts are the bodies it was sent. */
function renderForm(f: Fake = {}) {
  const posts: Record<string, string>[] = []
  const fetchImpl = vi.fn(async (url: string, init?: RequestInit) => {
    if (url === '/api/me') return json(200, { tenant: 'acme', role: 'tenant', tokenId: 'x', ...(f.usage ?? { storeCount: 1, storeLimit: 5 }) })
    if (url === '/api/sizes') return json(200, sizes)
    posts.push(JSON.parse(String(init?.body)) as Record<string, string>)
    return f.create ? f.create() : json(202, { name: posts[posts.length - 1].name })
  })
  const client = new ApiClient('t', fetchImpl as unknown as typeof fetch)
  render(
    <SessionContext.Provider value={{ client, me: { tenant: 'acme', role: 'tenant', tokenId: 'x' } }}>
      <Router>
        <CreateStore />
      </Router>
    </SessionContext.Provider>,
  )
  return posts
}

const sizesLoaded = () => screen.findByRole('option', { name: 'small (default)' })

describe('serverErrors', () => {
  it.each<[string, ApiError, object]>([
    [
      'field errors go on their fields, unknown ones on the form',
      new ApiError({ status: 400, type: 'x/validation', title: 'Invalid request', fields: { name: 'is reserved', host: 'must end in .stores.localhost', tenant: 'bad' } }),
      { fields: { name: 'is reserved', host: 'must end in .stores.localhost' }, form: 'tenant bad' },
    ],
    [
      'a conflict goes on the name',
      new ApiError({ status: 409, type: 'https://storeplatform.io/problems/conflict', title: 'Conflict', detail: 'the name is taken' }),
      { fields: { name: 'the name is taken' }, form: '' },
    ],
    [
      'anything else is for the form',
      new ApiError({ status: 409, type: 'https://storeplatform.io/problems/store-limit-reached', title: 'Store limit reached', detail: '5 stores' }),
      { fields: {}, form: 'Store limit reached: 5 stores' },
    ],
  ])('%s', (_, err, want) => {
    expect(serverErrors(err)).toEqual(want)
  })
})

describe('describeSize', () => {
  it.each([
    ['woocommerce', { name: 'medium', cpu: '2 (limit 6)', memory: '4Gi (limit 8Gi)', volumes: 'wordpress 2Gi, mariadb 2Gi', replicas: 'wordpress 1, mariadb 1' }],
    [
      'medusa',
      {
        name: 'medium',
        cpu: '2 (limit 6)',
        memory: '4Gi (limit 8Gi)',
        volumes: 'postgresql 2Gi',
        replicas: 'medusa-server 2, medusa-worker 1, postgresql 1, redis 1',
      },
    ],
  ])('%s', (engine, want) => {
    expect(describeSize(sizes.items[1], engine)).toEqual(want)
  })
})

describe('CreateStore', () => {
  it('checks the name before sending, with the API message', async () => {
    const posts = renderForm()
    await sizesLoaded()
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Bad_Name' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    const name = screen.getByLabelText('Name')
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById('name-error')?.textContent).toBe(`Name ${MsgNameFormat}`)
    expect(name.getAttribute('aria-describedby')).toContain('name-error')
    expect(document.activeElement).toBe(name)
    expect(posts).toEqual([])
  })

  it('shows the Medusa image field only for Medusa', () => {
    renderForm()
    expect(screen.queryByLabelText('Medusa image')).toBeNull()
    fireEvent.click(screen.getByLabelText(/Medusa/, { selector: 'input[type=radio]' }))
    expect(screen.getByLabelText('Medusa image')).toBeTruthy()
  })

  it("puts the server's field errors on the fields", async () => {
    const posts = renderForm({
      create: () =>
        problem(400, {
          type: 'https://storeplatform.io/problems/validation',
          title: 'Invalid request',
          errors: [{ field: 'name', message: MsgNameReserved }],
        }),
    })
    await sizesLoaded()
    // "shop" passes the form's checks; the server still refuses it here.
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'shop' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    await waitFor(() => expect(document.getElementById('name-error')?.textContent).toBe(`Name ${MsgNameReserved}`))
    expect(posts).toHaveLength(1)
  })

  it('offers the sizes of GET /api/sizes, the default chosen, with what each gives', async () => {
    renderForm()
    await sizesLoaded()
    const select = screen.getByLabelText('Size') as HTMLSelectElement
    expect([...select.options].map((o) => o.textContent)).toEqual(['small (default)', 'medium', 'large'])
    expect(select.value).toBe('small')
    const table = screen.getByRole('table', { name: 'What each size gives a WooCommerce store' })
    expect(
      within(table)
        .getAllByRole('row')
        .slice(1)
        .map((r) => r.textContent),
    ).toEqual([
      'small1 (limit 3)2Gi (limit 4Gi)wordpress 1Gi, mariadb 1Giwordpress 1, mariadb 1',
      'medium2 (limit 6)4Gi (limit 8Gi)wordpress 2Gi, mariadb 2Giwordpress 1, mariadb 1',
      'large4 (limit 16)8Gi (limit 20Gi)wordpress 5Gi, mariadb 5Giwordpress 2, mariadb 1',
    ])
    fireEvent.change(select, { target: { value: 'large' } })
    expect(document.getElementById('size-help')?.textContent).toBe(
      'large: CPU 4 (limit 16), memory 8Gi (limit 20Gi); volumes wordpress 5Gi, mariadb 5Gi; replicas wordpress 2, mariadb 1',
    )
    expect(select.getAttribute('aria-describedby')).toBe('size-help')
  })

  it('sends the chosen size and host', async () => {
    const posts = renderForm()
    await sizesLoaded()
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'shop' } })
    fireEvent.change(screen.getByLabelText('Size'), { target: { value: 'medium' } })
    fireEvent.change(screen.getByLabelText(/^Host/), { target: { value: 'www.shop.stores.localhost' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    await waitFor(() => expect(window.location.pathname).toBe('/stores/shop'))
    expect(posts).toEqual([{ name: 'shop', engine: 'woocommerce', size: 'medium', host: 'www.shop.stores.localhost' }])
  })

  it.each([
    ['upper case', 'Shop.example.com'],
    ['an underscore', 'my_shop.example.com'],
    ['a scheme', 'https://shop.example.com'],
    ['a trailing dot', 'shop.example.com.'],
    ['a label of 64 characters', 'a'.repeat(64) + '.example.com'],
    ['more than 253 characters', Array(64).fill('abc').join('.')],
  ])('checks the host with the API rule: %s', async (_, host) => {
    const posts = renderForm()
    await sizesLoaded()
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'shop' } })
    const field = screen.getByLabelText(/^Host/)
    fireEvent.change(field, { target: { value: host } })
    fireEvent.click(screen.getByRole('button', { name: 'Create store' }))
    expect(document.getElementById('host-error')?.textContent).toBe(`Host ${MsgHost}`)
    expect(document.activeElement).toBe(field)
    expect(posts).toEqual([])
  })

  it.each<[string, Pick<Me, 'storeCount' | 'storeLimit'>, string, boolean]>([
    ['below the limit', { storeCount: 3, storeLimit: 5 }, 'Tenant acme has 3 of 5 stores.', false],
    [
      'at the limit',
      { storeCount: 5, storeLimit: 5 },
      'Tenant acme has 5 of 5 stores, the most it may have. Delete a store before creating another.',
      true,
    ],
  ])("shows the tenant's stores of its limit: %s", async (_, usage, text, disabled) => {
    renderForm({ usage })
    await waitFor(() => expect(screen.getByTestId('quota').textContent).toBe(text))
    const create = screen.getByRole('button', { name: 'Create store' }) as HTMLButtonElement
    expect(create.disabled).toBe(disabled)
  })
})
