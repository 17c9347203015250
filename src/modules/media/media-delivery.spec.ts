import { contentDisposition } from './media-delivery';

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('attachment', 'Résumé "final".pdf')).toBe(
      `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    expect(contentDisposition('inline', "it's (1).jpg")).toBe(
      `inline; filename="it's (1).jpg"; filename*=UTF-8''it%27s%20%281%29.jpg`,
    );
    expect(contentDisposition('inline', null)).toBe('inline');
  });
});
