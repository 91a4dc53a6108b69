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
