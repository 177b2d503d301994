// A workflow's room of one wiki is a thread of its own: its live messages
// do not land in the cross-wiki room on screen.
import { afterEach, expect, test, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { fakeApi } from './harness.js';
import { useThreadsStore } from '../src/stores/threads.js';

afterEach( () => {
	vi.unstubAllGlobals();
} );

test( 'the cross-wiki room takes its own messages only', async () => {
	fakeApi( { 'GET /api/v1/workflows/patrol/messages': [] } );
	setActivePinia( createPinia() );
	const threads = useThreadsStore();
	await threads.openRoom( 'patrol' );
	const base = { item: null, workflow: 'patrol', author: 'Pat', bot: false, mentions: [], at: 1 };
	threads.messageNew( { ...base, id: 'room-patrol.dewiki.1', thread: 'room-patrol.dewiki', seq: 1, wiki: 'dewiki', text: 'Hallo' } );
	threads.messageNew( { ...base, id: 'room-patrol.1', thread: 'room-patrol', seq: 1, wiki: null, text: 'hi all' } );
	expect( threads.room.messages.map( ( m ) => m.text ) ).toEqual( [ 'hi all' ] );
} );
