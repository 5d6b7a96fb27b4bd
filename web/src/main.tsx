import { createRoot } from 'react-dom/client';
import { prefetchFor } from './api/prefetch.ts';
import { App } from './app.tsx';
import './styles.css';

prefetchFor(location.pathname);
createRoot(document.getElementById('root')!).render(<App />);
