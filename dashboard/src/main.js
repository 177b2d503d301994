import { createApp, h } from 'vue';
import '@wikimedia/codex-design-tokens/theme-wikimedia-ui.css';
import '@wikimedia/codex/dist/codex.style-bidi.css';
import './app.css';
import App from './App.vue';
import { setLanguage, initialLanguage, codexI18n, locale } from './i18n.js';
import { startRouter } from './router.js';
import { boot, startSync } from './boot.js';
import { onKeydown } from './keyboard.js';

setLanguage( initialLanguage() );

// Keyed on the language, so that Codex components read the new direction.
const app = createApp( { render: () => h( App, { key: locale.value } ) } );
app.provide( 'CdxI18nFunction', codexI18n );
app.mount( '#app' );

startRouter();
startSync();
window.addEventListener( 'keydown', onKeydown );
boot();
