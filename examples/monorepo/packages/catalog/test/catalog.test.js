import { expect, inject, test } from 'vitest'

test('catalog serves products', async () => {
  const res = await fetch(`${inject('serverUrl')}/products/1`)
  expect(await res.json()).toMatchObject({ name: 'kettle' })
  expect(Object.keys(inject('serverUrls'))).toEqual(['catalog'])
})
