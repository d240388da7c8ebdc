import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Relative asset URLs: the same build loads from the web host and from Electron's app:// protocol.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
