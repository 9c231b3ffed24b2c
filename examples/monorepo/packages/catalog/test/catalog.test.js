import { expect, inject, test } from 'vitest'

test('catalog serves products with their price (3 requests)', async () => {
  for (const [id, price] of [[1, '€25.00'], [2, '€8.00'], [1, '€25.00']]) {
    const res = await fetch(`${inject('serverUrl')}/products/${id}`)
    expect(await res.json()).toMatchObject({ price })
  }
  expect(Object.keys(inject('serverUrls'))).toEqual(['catalog'])
})
