import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError } from '@m7s/core';
import { CreateUserDto, UpdateUserDto, UserDto } from './auth.dto';
import { Permission, RequirePermission } from './permissions';
import { UsersService, UserView } from './users.service';

const UserId = new ParseIntPipe({ exceptionFactory: () => new AppError('INVALID_ARGUMENT', 'the user id must be an integer', { field: 'id' }) });

@ApiTags('users')
@Controller('api/users')
@RequirePermission(Permission.ManageUsers)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Every user (never the password hashes)' })
  @ApiOkResponse({ type: [UserDto] })
  list(): Promise<UserView[]> {
    return this.users.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One user' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user (NOT_FOUND)' })
  get(@Param('id', UserId) id: number): Promise<UserView> {
    return this.users.get(id);
  }

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'The username is taken (ALREADY_EXISTS)' })
  create(@Body() body: CreateUserDto): Promise<UserView> {
    return this.users.create(body);
  }

  @Patch(':id')
  @ApiOperation({ summary: "Change a user's role, password or disabled flag" })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user (NOT_FOUND)' })
  @ApiConflictResponse({ description: 'It would leave no enabled admin (FAILED_PRECONDITION)' })
  update(@Param('id', UserId) id: number, @Body() body: UpdateUserDto): Promise<UserView> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user; its sessions are revoked' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such user (NOT_FOUND)' })
  @ApiConflictResponse({ description: 'It is the last enabled admin (FAILED_PRECONDITION)' })
  async remove(@Param('id', UserId) id: number): Promise<void> {
    await this.users.remove(id);
  }
}
