// Registers <note-coder>. Loading this module twice (or after another define) is harmless.
import { NoteCoderElement } from './note-coder.js';

NoteCoderElement.define();
