/** The example agent run by `npm start`: a receptionist with two tools and a handoff. */
import { z } from 'zod';
import { Agent, functionTool } from '../src/index.ts';

export class Receptionist extends Agent {
  constructor() {
    super({
      instructions: 'You are a friendly receptionist. Keep answers short. Use tools for the time and for bookings.',
      tools: [
        functionTool({
          name: 'get_time',
          description: 'The current local time',
          execute: () => new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }),
        }),
        functionTool({
          name: 'book_table',
          description: 'Book a table for a number of people',
          parameters: z.object({ people: z.number().int().min(1).max(20), time: z.string() }),
          execute: async ({ people, time }) => `Booked a table for ${people} at ${time}. Reference B-${people}${time.replace(/\D/g, '')}.`,
        }),
      ],
    });
  }

  override onEnter() {
    this.session.say('Hello! How can I help you today?');
  }
}
