import { createApp, h } from 'vue';
import { createPinia } from 'pinia';
import { createWebHistory } from 'vue-router';
import '@wikimedia/codex-design-tokens/theme-wikimedia-ui.css';
import '@wikimedia/codex/dist/codex.style-bidi.css';
import './app.css';
import App from './App.vue';
import QueueList from './components/QueueList.vue';
import ItemList from './components/ItemList.vue';
import ItemPane from './components/ItemPane.vue';
import { AdminPane, MyReports, RoomView, SearchView, InboxView, ConversationsView, ConversationView } from './lazy.js';
import { setLanguage, initialLanguage, codexI18n, locale } from './i18n.js';
import { makeRouter } from './router.js';
import { boot, startSync } from './boot.js';
import { onKeydown } from './keyboard.js';

const router = makeRouter( createWebHistory(), { QueueList, ItemList, ItemPane, RoomView, AdminPane, MyReports, SearchView, InboxView, ConversationsView, ConversationView } );

// Keyed on the language, so that Codex components read the new direction.
const app = createApp( { render: () => h( App, { key: locale.value } ) } );
app.provide( 'CdxI18nFunction', codexI18n );
app.use( createPinia() );
app.use( router );

// The page starts in its language: a language other than English has its
// messages fetched first (English stands in if they cannot be).
setLanguage( initialLanguage() ).finally( () => {
	app.mount( '#app' );
	startSync();
	window.addEventListener( 'keydown', onKeydown );
	boot();
} );
