// A QR code of a link, drawn as an SVG data URL (no canvas needed, so it renders in tests too).
import { useEffect, useState } from 'react';

/** The QR encoder is loaded on first use: most sessions never show a code. */
export async function qrSvgDataUrl(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function QrCode({ text, size = 160, label }: { text: string; size?: number; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    qrSvgDataUrl(text)
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [text]);
  if (!src) return <div className="qr qr--empty" style={{ width: size, height: size }} aria-hidden="true" />;
  return <img className="qr" src={src} width={size} height={size} alt={label} data-testid="group-qr" data-qr-text={text} />;
}
