// Inline SVG icons (no icon font or network fetch).
const base = { width: 22, height: 22, viewBox: '0 0 24 24', 'aria-hidden': true, focusable: false } as const;

export const PlayIcon = () => (
  <svg {...base}><path d="M8 5v14l11-7z" fill="currentColor" /></svg>
);
export const PauseIcon = () => (
  <svg {...base}><path d="M6 5h4v14H6zM14 5h4v14h-4z" fill="currentColor" /></svg>
);
export const NextIcon = () => (
  <svg {...base}><path d="M6 6l8.5 6L6 18zM16 6h2v12h-2z" fill="currentColor" /></svg>
);
export const HeartIcon = ({ filled }: { filled?: boolean }) => (
  <svg {...base}>
    <path
      d="M12 20s-7-4.4-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.6-7 10-7 10z"
      fill={filled ? 'currentColor' : 'none'}
      stroke="currentColor"
      strokeWidth="2"
      strokeLinejoin="round"
    />
  </svg>
);
export const ThumbDownIcon = ({ filled }: { filled?: boolean }) => (
  <svg {...base}>
    <path
      d="M10 15v4a2 2 0 0 0 2 2l3-7V4H7.5a2 2 0 0 0-2 1.7L4.3 12A2 2 0 0 0 6.3 14.3H10zM15 4h3v10h-3"
      fill={filled ? 'currentColor' : 'none'}
      stroke="currentColor"
      strokeWidth="2"
      strokeLinejoin="round"
    />
  </svg>
);
export const VolumeIcon = () => (
  <svg {...base}><path d="M4 9v6h4l5 4V5L8 9zM16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" /></svg>
);
export const PrevIcon = () => (
  <svg {...base}><path d="M18 6l-8.5 6L18 18zM6 6h2v12H6z" fill="currentColor" /></svg>
);
export const SmallPlayIcon = () => (
  <svg {...base} width={16} height={16}><path d="M8 5v14l11-7z" fill="currentColor" /></svg>
);
/** "More like this": a track radiating to its neighbours. */
export const SimilarIcon = () => (
  <svg {...base} width={16} height={16}>
    <circle cx="12" cy="12" r="3" fill="currentColor" />
    <path d="M5.6 5.6a9 9 0 0 0 0 12.8M18.4 5.6a9 9 0 0 1 0 12.8M8.5 8.5a5 5 0 0 0 0 7M15.5 8.5a5 5 0 0 1 0 7" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
  </svg>
);
export const ExternalIcon = () => (
  <svg {...base} width={14} height={14}>
    <path d="M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
  </svg>
);
