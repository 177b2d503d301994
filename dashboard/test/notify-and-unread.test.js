// Desktop notifications (shown only for a kind the person opted in to,
// with permission, while the tab is hidden), the unread store (the
// header's badge and per-thread counts, live from the person's frames) and
// read marks sent to the server at most once per wait.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { shouldNotify, notifyDesktop, settingsOf, saveSettings, kindOf } from '../src/notify.js';
import { readMarker } from '../src/readMarks.js';
import { useUnreadStore, slotOf } from '../src/stores/unread.js';
import { t } from '../src/i18n.js';
import { fakeApi } from './harness.js';

let hidden = false;

beforeEach( () => {
	localStorage.clear();
	hidden = false;
	vi.spyOn( document, 'visibilityState', 'get' ).mockImplementation( () => ( hidden ? 'hidden' : 'visible' ) );
} );

afterEach( () => {
	vi.restoreAllMocks();
	vi.unstubAllGlobals();
	vi.useRealTimers();
} );

/** A Notification that records what was made. */
function fakeNotification( permission ) {
	const made = [];
	class N {
		static permission = permission;
		constructor( title, opts ) {
			this.title = title;
			this.opts = opts;
			made.push( this );
		}
		close() {
			this.closed = true;
		}
	}
	vi.stubGlobal( 'Notification', N );
	return made;
}

test( 'a notification shows only with permission, for a kind opted in, while the tab is hidden', () => {
	const on = { mention: true, reply: false, resolution: false, conversation: true };
	expect( shouldNotify( { kind: 'mention', settings: on, visibility: 'hidden', permission: 'granted' } ) ).toBe( true );
	expect( shouldNotify( { kind: 'mention', settings: on, visibility: 'visible', permission: 'granted' } ) ).toBe( false );
	expect( shouldNotify( { kind: 'mention', settings: on, visibility: 'hidden', permission: 'default' } ) ).toBe( false );
	expect( shouldNotify( { kind: 'reply', settings: on, visibility: 'hidden', permission: 'granted' } ) ).toBe( false );
	expect( kindOf( { kind: 'reply', thread: 'dm-7' } ) ).toBe( 'conversation' );

	// Nothing is on until chosen, per person.
	expect( settingsOf( 'Alice' ) ).toEqual( { mention: false, reply: false, resolution: false, conversation: false } );
	saveSettings( 'Alice', { mention: true } );
	expect( settingsOf( 'Alice' ).mention ).toBe( true );
	expect( settingsOf( 'Bob' ).mention ).toBe( false );

	const made = fakeNotification( 'granted' );
	const entry = { id: 'e1', kind: 'mention', by: 'Bob', excerpt: '<b>hi</b> @Alice', message: 'enwiki-1.4', thread: 'enwiki-1' };
	const opened = [];
	expect( notifyDesktop( 'Alice', entry, () => opened.push( 1 ), t ) ).toBe( null ); // visible tab
	hidden = true;
	const n = notifyDesktop( 'Alice', entry, () => opened.push( 1 ), t );
	expect( made.length ).toBe( 1 );
	expect( n.title ).toBe( 'Bob mentioned you' );
	expect( n.opts.body ).toBe( '<b>hi</b> @Alice' );
	expect( n.opts.tag ).toBe( 'message:enwiki-1.4' );
	expect( notifyDesktop( 'Alice', { ...entry, kind: 'reply' }, () => {}, t ) ).toBe( null ); // not opted in
	expect( notifyDesktop( 'Bob', entry, () => {}, t ) ).toBe( null ); // another person's choice
	const focus = vi.spyOn( window, 'focus' ).mockImplementation( () => {} );
	n.onclick();
	expect( focus ).toHaveBeenCalled();
	expect( n.closed ).toBe( true );
	expect( opened ).toEqual( [ 1 ] );
} );

test( 'read marks: the first goes at once, later ones at most once per wait with the newest seq, lower ones never', async () => {
	vi.useFakeTimers();
	const sent = [];
	const m = readMarker( ( thread, seq ) => {
		sent.push( [ thread, seq ] );
		return Promise.resolve();
	}, { wait: 2000 } );
	expect( m.mark( 'enwiki-1', 3 ) ).toBe( true );
	expect( sent ).toEqual( [ [ 'enwiki-1', 3 ] ] );
	expect( m.mark( 'enwiki-1', 4 ) ).toBe( true );
	expect( m.mark( 'enwiki-1', 5 ) ).toBe( true );
	expect( m.mark( 'enwiki-1', 5 ) ).toBe( false );
	expect( m.mark( 'enwiki-1', 2 ) ).toBe( false );
	expect( m.mark( 'dewiki-2', 1 ) ).toBe( true );
	expect( sent.length ).toBe( 1 );
	await vi.advanceTimersByTimeAsync( 1999 );
	expect( sent.length ).toBe( 1 );
	await vi.advanceTimersByTimeAsync( 1 );
	expect( sent ).toEqual( [ [ 'enwiki-1', 3 ], [ 'enwiki-1', 5 ], [ 'dewiki-2', 1 ] ] );
	expect( m.upTo( 'enwiki-1' ) ).toBe( 5 );
	// A failed send is tried again with the next mark.
	const failing = readMarker( () => Promise.reject( new Error( 'offline' ) ), { wait: 10 } );
	failing.mark( 'x', 2 );
	await vi.advanceTimersByTimeAsync( 0 );
	expect( failing.upTo( 'x' ) ).toBe( 0 );
} );

test( 'the unread store: the badge follows inbox.new and inbox.read, threads count new messages, rooms add up, and a hidden tab notifies', async () => {
	setActivePinia( createPinia() );
	const api = fakeApi( {
		'GET /api/v1/me/unread': { inbox: 2, threads: { 'enwiki-1': 1, 'enwiki-2': 0 }, rooms: { 'room-patrol.enwiki': 2, 'room-patrol.dewiki': 1 }, conversations: { c1: 0 } },
		'POST /api/v1/threads/enwiki-1/read': {}
	} );
	const u = useUnreadStore();
	const opened = [];
	u.reset( 'Alice', ( e ) => opened.push( e.id ) );
	await u.load();
	expect( u.counts.inbox ).toBe( 2 );
	expect( slotOf( 'dm-c1' ) ).toEqual( [ 'conversations', 'c1' ] );
	expect( u.unreadOf( 'room-patrol' ) ).toBe( 3 );
	expect( u.unreadOf( 'room-patrol.dewiki' ) ).toBe( 1 );
	expect( u.unreadOf( 'enwiki-9' ) ).toBe( undefined );

	const heard = [];
	const stop = u.listen( ( f ) => heard.push( f.type ) );
	u.frame( { type: 'inbox.new', entry: { id: 'e3', kind: 'mention', by: 'Bob', thread: 'enwiki-1', message: 'enwiki-1.2' } } );
	expect( u.counts.inbox ).toBe( 3 );
	// Own messages do not count; others' in a counted thread do, once read no more.
	u.messageNew( { id: 'enwiki-1.3', thread: 'enwiki-1', seq: 3, author: 'Alice', text: 'me' } );
	expect( u.unreadOf( 'enwiki-1' ) ).toBe( 1 );
	u.messageNew( { id: 'enwiki-1.4', thread: 'enwiki-1', seq: 4, author: 'Bob', text: 'hi' } );
	expect( u.unreadOf( 'enwiki-1' ) ).toBe( 2 );
	u.markRead( 'enwiki-1', 4 );
	expect( u.unreadOf( 'enwiki-1' ) ).toBe( 0 );
	expect( api.to( 'POST /api/v1/threads/enwiki-1/read' )[ 0 ].body ).toEqual( { seq: 4 } );
	u.messageNew( { id: 'enwiki-1.4', thread: 'enwiki-1', seq: 4, author: 'Bob', text: 'hi' } );
	expect( u.unreadOf( 'enwiki-1' ) ).toBe( 0 );
	// Every followed thread is there, a read one at 0: a new message counts.
	expect( u.unreadOf( 'enwiki-2' ) ).toBe( 0 );
	u.messageNew( { id: 'enwiki-2.7', thread: 'enwiki-2', seq: 7, author: 'Bob', text: 'hi' } );
	expect( u.unreadOf( 'enwiki-2' ) ).toBe( 1 );
	// Threads and conversations not followed are not counted, as the server does not.
	u.messageNew( { id: 'enwiki-9.1', thread: 'enwiki-9', seq: 1, author: 'Bob', text: 'hi' } );
	u.messageNew( { id: 'dm-c7.1', thread: 'dm-c7', seq: 1, author: 'Bob', text: 'hi' } );
	expect( u.unreadOf( 'enwiki-9' ) ).toBe( undefined );
	expect( u.unreadOf( 'dm-c7' ) ).toBe( undefined );
	// Another device read everything.
	u.frame( { type: 'inbox.read' } );
	expect( u.counts.inbox ).toBe( 0 );
	u.frame( { type: 'follow', thread: 'enwiki-7', following: true } );
	expect( u.following[ 'enwiki-7' ] ).toBe( true );
	expect( heard ).toEqual( [ 'inbox.new', 'inbox.read', 'follow' ] );
	stop();

	// Opted in to conversations, the tab hidden: a conversation's message
	// (its inbox entry) notifies; its count goes up.
	saveSettings( 'Alice', { conversation: true } );
	const made = fakeNotification( 'granted' );
	hidden = true;
	u.messageNew( { id: 'dm-c1.2', thread: 'dm-c1', seq: 2, author: 'Bob', text: 'psst' } );
	u.frame( { type: 'inbox.new', entry: { id: 'dm-c1.2', kind: 'reply', thread: 'dm-c1', conversation: 'c1', message: 'dm-c1.2', by: 'Bob', excerpt: 'psst', at: Date.now(), read: false } } );
	await vi.waitFor( () => expect( made.length ).toBe( 1 ) );
	expect( made[ 0 ].title ).toBe( 'Bob wrote to you' );
	expect( made[ 0 ].opts.body ).toBe( 'psst' );
	expect( u.unreadOf( 'dm-c1' ) ).toBe( 1 );
	vi.spyOn( window, 'focus' ).mockImplementation( () => {} );
	made[ 0 ].onclick();
	expect( opened ).toEqual( [ 'dm-c1.2' ] );
} );
