// Production build: static assets in dist/ that the api serves. The api's
// Content-Security-Policy allows only same-origin scripts and styles, so the
// build must not need inline scripts, inline style attributes or eval: Vue is
// the runtime-only build (templates are compiled here), and CSS goes to files.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { messagesSplit } from './scripts/split-messages.mjs';

const api = process.env.PATROLCHAT_API || 'http://127.0.0.1:8080';

export default defineConfig( {
	plugins: [ vue(), messagesSplit() ],
	base: '/',
	define: {
		__VUE_PROD_DEVTOOLS__: 'false',
		__VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false'
	},
	build: {
		outDir: 'dist',
		assetsDir: 'assets',
		target: 'es2020',
		sourcemap: false,
		// Every browser the app supports knows <link rel="modulepreload">.
		modulePreload: { polyfill: false },
		// Keep small files as files too: data: URLs are fine for img-src
		// but a CSS or font inlined that way would be refused.
		assetsInlineLimit: 0
	},
	// `npm test`: Vitest, in a jsdom document (the sanitiser needs a DOM).
	test: {
		environment: 'jsdom',
		include: [ 'test/**/*.test.js' ]
	},
	// `npm run dev` proxies the api (start it with deploy/up.sh).
	server: {
		proxy: {
			'/api': { target: api, ws: true, changeOrigin: false },
			'/auth': { target: api }
		}
	}
} );
